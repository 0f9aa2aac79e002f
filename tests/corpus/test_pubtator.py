"""PubTator conversion: content, overlaps, malformed input, CLI, official CDR counts."""
import pytest

from spacy_biobert.corpus import MENTIONS_KEY, CorpusFormatError, read_pubtator
from tests.util import convert_with, invoke, read_docbin, write_text

TITLE = "Famotidine-associated delirium."
ABSTRACT = "Famotidine-induced acute renal failure and delirium in rats."
GOOD = f"""1|t|{TITLE}
1|a|{ABSTRACT}
1\t0\t10\tFamotidine\tChemical\tD015738
1\t22\t30\tdelirium\tDisease\tD003693
1\t32\t42\tFamotidine\tChemical\tD015738
1\t51\t70\tacute renal failure\tDisease\tD058186|D007674\tacute renal failure|renal failure
1\t57\t62\trenal\tDisease\t-1
1\tCID\tD015738\tD003693

2|t|Rats.
2|a|No entity here.
"""


def _convert(tmp_path, text: str, name: str = "x.pubtator"):
    return convert_with(read_pubtator, write_text(tmp_path / name, text))


def test_entities_ids_relations_and_overlaps(tmp_path):
    docs, stats = _convert(tmp_path, GOOD)
    doc = docs[0]
    assert doc._.biobert_doc_id == "1"
    assert doc.text == TITLE + " " + ABSTRACT
    assert doc._.biobert_sections == (("title", 0, len(TITLE)), ("abstract", len(TITLE) + 1, len(doc.text)))
    ents = [(e.text, e.label_, e.kb_id_) for e in doc.ents]
    assert ents == [
        ("Famotidine", "Chemical", "D015738"),
        ("delirium", "Disease", "D003693"),
        ("Famotidine", "Chemical", "D015738"),
        ("acute renal failure", "Disease", "D058186|D007674"),
    ]
    group = doc.spans[MENTIONS_KEY]
    assert [s.text for s in group][-1] == "renal" and len(group) == 5
    assert group.attrs["char_offsets"][-1] == (57, 62)
    assert group.attrs["extra"][3] == ("acute renal failure|renal failure",)
    assert doc._.biobert_concept_relations == {("D015738", "D003693", "CID"): 1.0}
    assert stats.docs == 2 and stats.mentions == {"Chemical": 2, "Disease": 3}
    assert stats.not_in_ents == {"overlaps a longer mention": 1}
    assert stats.misaligned == 0
    assert len(docs[1].ents) == 0


@pytest.mark.parametrize(
    "text, line, problem",
    [
        ("1|t|Title\n1|a|Abstract\n1\t0\t99\tTitle\tChemical\tD1\n", 3, "outside"),
        ("1|t|Title\n1|a|Abstract\n1\t0\t5\tTitel\tChemical\tD1\n", 3, "differs"),
        ("1|t|Title\n1|a|Abstract\n1\tx\t5\tTitle\tChemical\tD1\n", 3, "unknown line"),
        ("1|t|Title\n1|a|Abstract\n1\tzero\n", 3, "unknown line"),
        ("1|t|Title\n1|a|Abstract\n1\t0\t5\n", 3, "columns"),
        ("1|t|Title\n1|a|Abstract\n2\t0\t5\tTitle\tChemical\tD1\n", 3, "inside document"),
        ("1|t|Title\n", 1, "truncated"),
        ("1|t|Title\n1|x|Abstract\n", 2, "'PMID|a|...'"),
        ("garbage\n", 1, "'PMID|t|...'"),
        # a file cut inside its last line: label, kb id, abstract cut mid-word (issue 12)
        ("1|t|Title\n1|a|Abstract\n1\t0\t5\tTitle\tChemi", 3, "no newline"),
        ("1|t|Title\n1|a|Abstract\n1\t0\t5\tTitle\tChemical\tD0080", 3, "no newline"),
        ("1|t|Title\n1|a|Abstr", 2, "no newline"),
        # a 4-column line is a relation only with a relation type, and only between ids of the document's mentions
        ("1|t|Title\n1|a|Abstract\n1\tbar|baz|FOO\tD1\tD2\n", 3, "unknown line"),
        ("1|t|Title\n1|a|Abstract\n1\t0\t5\tTitle\tChemical\tD1\n1\tCID\tD1\tD9\n", 4, r"\['D9'\]"),
    ],
)
def test_malformed_input_names_file_and_line(tmp_path, text, line, problem):
    assert_refused(tmp_path, text, line, problem)


def assert_refused(tmp_path, text, line, problem):
    """Converting ``text`` raises a CorpusFormatError matching ``problem`` that names bad.pubtator:``line``."""
    with pytest.raises(CorpusFormatError, match=problem) as info:
        _convert(tmp_path, text, name="bad.pubtator")
    assert f"bad.pubtator:{line}:" in str(info.value)


def test_wrong_encoding_names_line(tmp_path):
    path = tmp_path / "latin1.pubtator"
    path.write_bytes("1|t|Title\n1|a|Caf\u00e9\n".encode("latin-1"))
    with pytest.raises(CorpusFormatError, match=r"latin1.pubtator:2: not valid UTF-8"):
        list(read_pubtator(path))


def test_relation_may_precede_its_mentions_and_use_a_composite_id_part(tmp_path):
    text = "1|t|Title\n1|a|Abstract\n1\tCID\tD1\tD3\n1\t0\t5\tTitle\tChemical\tD1\n1\t6\t14\tAbstract\tDisease\tD2|D3\n"
    (doc,), _ = _convert(tmp_path, text)
    assert doc._.biobert_concept_relations == {("D1", "D3", "CID"): 1.0}


def test_truncated_gzip_names_the_file(tmp_path):
    import gzip

    path = tmp_path / "cut.pubtator.gz"
    path.write_bytes(gzip.compress(GOOD.encode("utf8"))[:-12])
    with pytest.raises(CorpusFormatError, match=r"cut.pubtator.gz:\d+: corrupt or truncated gzip"):
        list(read_pubtator(path))


def test_empty_file(tmp_path):
    with pytest.raises(CorpusFormatError, match="empty"):
        _convert(tmp_path, "")


def test_cli_writes_docbin_and_summary(tmp_path):
    result = invoke("convert", write_text(tmp_path / "toy.pubtator", GOOD), tmp_path / "out")
    assert "Chemical" in result.output and "not in doc.ents" in result.output
    docs = read_docbin(tmp_path / "out" / "toy.spacy")
    assert docs[0]._.biobert_concept_relations == {("D015738", "D003693", "CID"): 1.0}
    assert len(docs[0].spans[MENTIONS_KEY]) == 5


OFFICIAL = {
    "train": (500, 5203, 4182, 1038),
    "dev": (500, 5347, 4244, 1012),
    "test": (500, 5385, 4424, 1066),
}


@pytest.mark.parametrize("split", sorted(OFFICIAL))
def test_cdr_official_counts(cdr_dir, tmp_path, split):
    invoke("convert", cdr_dir / f"{split}.pubtator.gz", tmp_path)
    docs = read_docbin(tmp_path / f"{split}.spacy")
    labels = [s.label_ for d in docs for s in d.spans[MENTIONS_KEY]]
    relations = sum(len(d._.biobert_concept_relations) for d in docs)
    assert (len(docs), labels.count("Chemical"), labels.count("Disease"), relations) == OFFICIAL[split]


# silent changes found by the mutation tests (tests/corpus/test_mutations.py): each is now refused or exact
JOINED = [
    # a lost newline: the next mention became extra columns of this one
    (GOOD.replace("D003693\n1\t32", "D003693X1\t32"), 4, "11 columns.*two lines joined"),
    # a lost newline: the first mention line became part of the abstract
    (GOOD.replace("rats.\n1\t0", "rats.X1\t0"), 2, "tab in a title/abstract line"),
    # a lost newline in CR-LF... or a stray CR: two lines in one, the second inside the kb id
    (GOOD.replace("D015738\n1\t22", "D015738\r1\t22"), 3, r"control character '\\r'"),
    (GOOD.replace("Chemical\tD015738\n1\t22", "Chem\x00ical\tD015738\n1\t22"), 3, "control character"),
    (GOOD + "\n" + GOOD.split("\n\n")[0] + "\n", 13, "document '1' already read at line 1"),
    (GOOD.replace("1\tCID\tD015738\tD003693\n", "1\tCID\tD015738\tD003693\n" * 2), 9, "repeats line 8"),
    (GOOD.replace("1\t0\t10\tFamotidine\tChemical\tD015738\n", "1\t0\t10\tFamotidine\tChemical\tD015738\n" * 2),
     4, "repeats line 3"),
]


@pytest.mark.parametrize("text, line, problem", JOINED)
def test_mutations_once_read_silently_are_refused(tmp_path, text, line, problem):
    assert_refused(tmp_path, text, line, problem)


def test_byte_order_mark_is_skipped(tmp_path):
    path = tmp_path / "bom.pubtator"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf8"))
    assert [d.doc_id for d in read_pubtator(path)] == ["1", "2"]


def test_corrupt_gzip_data_names_the_file(tmp_path):
    import gzip

    packed = bytearray(gzip.compress(GOOD.encode("utf8"), mtime=0))
    packed[30] ^= 0xFF  # inside the deflate stream: zlib.error, no longer let through
    path = tmp_path / "bad.pubtator.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(CorpusFormatError, match=r"bad.pubtator.gz:\d+: "):
        list(read_pubtator(path))
