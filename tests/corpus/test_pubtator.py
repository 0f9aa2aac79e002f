"""PubTator conversion: content, alignment policy, malformed input, official CDR counts."""
import pytest
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_biobert.cli import app
from spacy_biobert.cli.convert import conversion_nlp
from spacy_biobert.corpus import ConversionStats, CorpusFormatError, build_docs, read_pubtator
from spacy_biobert.corpus import MENTIONS_KEY

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
    path = tmp_path / name
    path.write_text(text, encoding="utf8")
    stats = ConversionStats()
    return build_docs(conversion_nlp(), read_pubtator(path), stats), stats


def test_entities_ids_relations_and_overlaps(tmp_path):
    docs, stats = _convert(tmp_path, GOOD)
    doc = docs[0]
    assert doc._.biobert_doc_id == "1"
    assert doc.text == TITLE + " " + ABSTRACT
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


def test_misaligned_mention_is_expanded_and_counted(tmp_path):
    text = "1|t|Serum lithium=0.85 mM\n1|a|x\n1\t6\t13\tlithium\tChemical\tD008094\n"
    docs, stats = _convert(tmp_path, text)
    assert stats.misaligned == 1
    assert docs[0].spans[MENTIONS_KEY].attrs["char_offsets"] == ((6, 13),)
    ent = docs[0].ents[0]
    assert ent.start_char == 6 and ent.end_char > 13 and ent.kb_id_ == "D008094"


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
    ],
)
def test_malformed_input_names_file_and_line(tmp_path, text, line, problem):
    with pytest.raises(CorpusFormatError, match=problem) as info:
        _convert(tmp_path, text, name="bad.pubtator")
    assert f"bad.pubtator:{line}:" in str(info.value)


def test_wrong_encoding_names_line(tmp_path):
    path = tmp_path / "latin1.pubtator"
    path.write_bytes("1|t|Title\n1|a|Caf\u00e9\n".encode("latin-1"))
    with pytest.raises(CorpusFormatError, match=r"latin1.pubtator:2: not valid UTF-8"):
        list(read_pubtator(path))


def test_empty_file(tmp_path):
    with pytest.raises(CorpusFormatError, match="empty"):
        _convert(tmp_path, "")


def test_cli_writes_docbin_and_summary(tmp_path):
    (tmp_path / "toy.pubtator").write_text(GOOD, encoding="utf8")
    result = CliRunner().invoke(app, ["convert", str(tmp_path / "toy.pubtator"), str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Chemical" in result.output and "not in doc.ents" in result.output
    docs = list(DocBin().from_disk(tmp_path / "out" / "toy.spacy").get_docs(conversion_nlp().vocab))
    assert docs[0]._.biobert_concept_relations == {("D015738", "D003693", "CID"): 1.0}
    assert len(docs[0].spans[MENTIONS_KEY]) == 5


def test_cli_reports_malformed_input(tmp_path):
    (tmp_path / "bad.pubtator").write_text("1|t|T\n1|a|A\n1\t0\t1\tX\tChemical\tD1\n", encoding="utf8")
    result = CliRunner().invoke(app, ["convert", str(tmp_path / "bad.pubtator"), str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "bad.pubtator:3" in result.output


OFFICIAL = {
    "train": (500, 5203, 4182, 1038),
    "dev": (500, 5347, 4244, 1012),
    "test": (500, 5385, 4424, 1066),
}


@pytest.mark.parametrize("split", sorted(OFFICIAL))
def test_cdr_official_counts(cdr_dir, tmp_path, split):
    result = CliRunner().invoke(app, ["convert", str(cdr_dir / f"{split}.pubtator.gz"), str(tmp_path)])
    assert result.exit_code == 0, result.output
    nlp = conversion_nlp()
    docs = list(DocBin().from_disk(tmp_path / f"{split}.spacy").get_docs(nlp.vocab))
    labels = [s.label_ for d in docs for s in d.spans[MENTIONS_KEY]]
    relations = sum(len(d._.biobert_concept_relations) for d in docs)
    assert (len(docs), labels.count("Chemical"), labels.count("Disease"), relations) == OFFICIAL[split]
