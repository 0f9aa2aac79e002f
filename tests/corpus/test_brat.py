"""BRAT standoff conversion: T/R/N/A lines, discontinuous and overlapping spans, CLI, malformed input."""
import pytest

from spacy_biobert.corpus import MENTIONS_KEY, CorpusFormatError
from spacy_biobert.corpus.brat import read_brat
from spacy_biobert.relations import get_relations
from tests.util import convert_with, invoke, read_docbin, relation_triples

TEXT = "Famotidine was given.\nThen acute delirium and renal and hepatic failure began.\n"


def at(sub: str, nth: int = 0) -> str:
    """``"start end"`` of the ``nth`` occurrence of ``sub`` in ``TEXT``."""
    start = -1
    for _ in range(nth + 1):
        start = TEXT.index(sub, start + 1)
    return f"{start} {start + len(sub)}"


ANN = "\n".join(
    [
        f"T1\tChemical {at('Famotidine')}\tFamotidine",
        f"T2\tDisease {at('acute delirium')}\tacute delirium",
        f"T3\tDisease {at('delirium')}\tdelirium",
        f"T4\tDisease {at('renal')};{at('failure')}\trenal failure",
        f"T5\tDisease {at('hepatic failure')}\thepatic failure",
        "R1\tCauses Arg1:T1 Arg2:T2",
        "R2\tCauses Arg2:T4 Arg1:T1",
        "N1\tReference T1 MESH:D015738\tFamotidine",
        "N2\tReference T3 MESH:D003693\tDelirium",
        "A1\tNegated T5",
        "A2\tCertainty T2 High",
        "E1\tOnset:T2 Theme:T3",
        "#1\tAnnotatorNotes T1\tchecked",
        "",
    ]
)

RELATIONS = [("Famotidine", "acute delirium", "Causes"), ("Famotidine", "renal and hepatic failure", "Causes")]


def _write(folder, name, text=TEXT, ann=ANN):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.txt").write_text(text, encoding="utf8", newline="")
    (folder / f"{name}.ann").write_text(ann, encoding="utf8", newline="")
    return folder / f"{name}.ann"


def _convert(path):
    docs, stats = convert_with(read_brat, path)
    assert stats.skipped == {"event": 1}
    return docs, stats


def test_mentions_normalisation_overlaps_and_discontinuous(tmp_path):
    docs, stats = _convert(_write(tmp_path / "corpus", "doc1"))
    doc = docs[0]
    assert doc.text == TEXT and doc._.biobert_doc_id == "doc1"
    ents = [(e.text, e.label_, e.kb_id_) for e in doc.ents]
    assert ents == [
        ("Famotidine", "Chemical", "MESH:D015738"),
        ("acute delirium", "Disease", ""),
        ("renal and hepatic failure", "Disease", ""),
    ]
    group = doc.spans[MENTIONS_KEY]
    assert [(s.text, s.kb_id_) for s in group] == [
        ("Famotidine", "MESH:D015738"),
        ("acute delirium", ""),
        ("delirium", "MESH:D003693"),
        ("renal and hepatic failure", ""),
        ("hepatic failure", ""),
    ]
    renal, failure = at("renal").split(), at("failure").split()
    fragments = f"fragments={renal[0]}-{renal[1]},{failure[0]}-{failure[1]}"
    assert group.attrs["extra"][3] == ("discontinuous", fragments)
    assert group.attrs["char_offsets"][3] == (int(renal[0]), int(failure[1]))
    assert group.attrs["extra"][4] == ("Negated",) and group.attrs["extra"][1] == ("Certainty=High",)
    assert stats.not_in_ents == {"overlaps a longer mention": 2} and stats.misaligned == 0


def test_relations_cross_sentences(tmp_path):
    docs, stats = _convert(_write(tmp_path, "doc1"))
    assert relation_triples(docs[0]) == RELATIONS
    head, tail = get_relations(docs[0])[0][:2]
    assert "given.\nThen" in docs[0].text[head.start_char:tail.end_char]  # the relation crosses a sentence end
    assert stats.mention_relations == {"Causes": 2}


def test_folder_pairs_single_files_and_doc_ids(tmp_path):
    _write(tmp_path / "c", "b", text="Aspirin.", ann="T1\tChemical 0 7\tAspirin\n")
    _write(tmp_path / "c" / "sub", "a", text="Aspirin.", ann="T1\tChemical 0 7\tAspirin\n")
    (tmp_path / "c" / "README.txt").write_text("not a document", encoding="utf8")
    with pytest.warns(UserWarning, match="1 .txt file"):
        ids = [d.doc_id for d in read_brat(tmp_path / "c")]
    assert ids == ["b", "sub/a"]
    for name in ("a.txt", "a.ann"):
        assert [(m.text, m.key) for d in read_brat(tmp_path / "c" / "sub" / name) for m in d.mentions] == [
            ("Aspirin", "T1")
        ]


def test_cli_writes_docbin_that_reloads_with_relations(tmp_path):
    _write(tmp_path / "toy", "doc1")
    result = invoke("convert", tmp_path / "toy", tmp_path / "out", "-f", "brat")
    assert "skipped source lines: event" in result.output and "discontinuous" in result.output
    docs = read_docbin(tmp_path / "out" / "toy.spacy")
    assert len(docs) == 1
    assert relation_triples(docs[0]) == RELATIONS
    assert [e.kb_id_ for e in docs[0].ents] == ["MESH:D015738", "", ""]
    assert len(docs[0].spans[MENTIONS_KEY]) == 5


GOOD = "T1\tChemical 0 7\tAspirin\n"
MALFORMED = [
    ("T1\tChemical 0 x\tAspirin\n", 1, "bad offsets '0 x'"),
    ("T1\tChemical 0 7;9\tAspirin\n", 1, "bad offsets '9'"),
    (GOOD + "T2\tChemical 8 80\tharms\n", 2, "outside the document text"),
    (GOOD + "T2\tChemical 8 13\tharm\n", 2, "entity text 'harm' differs"),
    (GOOD + "T2\tChemical 0 3;8 13\tAsp harm\n", 2, "entity text 'Asp harm' differs from document text 'Asp har"),
    (GOOD + "T2\tChemical\tAspirin\n", 2, "entity line"),
    (GOOD + "T1\tChemical 8 13\tharms\n", 2, "duplicate id 'T1'"),
    (GOOD + "R1\tCauses Arg1:T1 Arg2:T9\n", 2, "unknown entity id 'T9'"),
    (GOOD + "R1\tCauses Arg1:T1\n", 2, "relation line"),
    (GOOD + "N1\tReference T7 MESH:D1\tx\n", 2, "unknown entity id 'T7'"),
    (GOOD + "N1\tReference T1\n", 2, "normalisation line"),
    (GOOD + "A1\tNegated\n", 2, "attribute line"),
    (GOOD + "\n" + "X1\tsomething\n", 3, "unknown line type: 'X1'"),
    (GOOD + "\tChemical 0 7\tAspirin\n", 2, "unknown line type"),
]


@pytest.mark.parametrize("ann, line, problem", MALFORMED)
def test_malformed_lines_name_file_and_line(tmp_path, ann, line, problem):
    assert_refused(tmp_path, ann, line, problem)


def assert_refused(tmp_path, ann, line, problem):
    """Reading ``ann`` raises a CorpusFormatError matching ``problem`` that names bad.ann:``line``."""
    path = _write(tmp_path, "bad", text="Aspirin harms.", ann=ann)
    with pytest.raises(CorpusFormatError, match=problem) as info:
        list(read_brat(path))
    assert f"bad.ann:{line}: " in str(info.value)


def test_missing_files(tmp_path):
    (tmp_path / "lonely.ann").write_text(GOOD, encoding="utf8")
    with pytest.raises(CorpusFormatError, match=r"lonely.ann: text file lonely.txt not found"):
        list(read_brat(tmp_path))
    with pytest.raises(CorpusFormatError, match="no .ann files"):
        (tmp_path / "empty").mkdir()
        list(read_brat(tmp_path / "empty"))
    (tmp_path / "orphan.txt").write_text("x", encoding="utf8")
    with pytest.raises(CorpusFormatError, match=r"orphan.ann: file not found"):
        list(read_brat(tmp_path / "orphan.txt"))
    with pytest.raises(CorpusFormatError, match="expected a folder"):
        list(read_brat(tmp_path / "x.json"))


def test_wrong_encoding_names_file_and_line(tmp_path):
    _write(tmp_path / "ann", "d", text="Aspirin harms.", ann=GOOD)
    (tmp_path / "ann" / "d.ann").write_bytes((GOOD + "#1\tAnnotatorNotes T1\tcaf\u00e9\n").encode("latin-1"))
    with pytest.raises(CorpusFormatError, match=r"d.ann:2: not valid UTF-8"):
        list(read_brat(tmp_path / "ann"))
    _write(tmp_path / "txt", "d", text="", ann=GOOD)
    (tmp_path / "txt" / "d.txt").write_bytes("Aspirin harms.\nCaf\u00e9.\n".encode("latin-1"))
    with pytest.raises(CorpusFormatError, match=r"d.txt:2: not valid UTF-8"):
        list(read_brat(tmp_path / "txt"))


# silent changes found by the mutation tests (tests/corpus/test_mutations_bioc_brat.py): now refused
JOINED = [
    (GOOD[:-1] + "\tT2\tChemical 8 13\tharms\n", 1, "6 tab-separated columns, a 'T' line has 3"),  # T2 was dropped
    (GOOD + "N1\tReference T1 MESH:D1\tAspirin\tN2\tReference T1 MESH:D2\tx\n", 2, "a 'N' line has 2 or 3"),
    (GOOD + "R1\tCauses Arg1:T1 Arg2:T1\nR1\tCauses Arg1:T1 Arg2:T1\n", 3, "duplicate id 'R1' \\(first at line 2\\)"),
    (GOOD + "N1\tReference T1 MESH:D1\tx\nN1\tReference T1 MESH:D1\tx\n", 3, "duplicate id 'N1'"),  # was kb 'D1|D1'
    (GOOD + "A1\tNegated T7\n", 2, "unknown entity id 'T7'"),  # was skipped as an attribute of a non-mention
]


@pytest.mark.parametrize("ann, line, problem", JOINED)
def test_mutations_once_read_silently_are_refused(tmp_path, ann, line, problem):
    assert_refused(tmp_path, ann, line, problem)


def test_attribute_of_an_event_is_skipped(tmp_path):
    ann = GOOD + "E1\tTreatment:T1\nA1\tNegated E1\n"
    (doc,) = read_brat(_write(tmp_path, "ev", text="Aspirin harms.", ann=ann))
    assert doc.skipped == {"event": 1, "attribute of an event": 1} and doc.mentions[0].extra == ()
