"""Mutation tests of the BioC and BRAT readers over the small fixtures of test_bioc.py / test_brat.py.

Oracle and mutants: ``tests/corpus/mutations.py``. Fixed seeds: the same mutants in every run.
"""
import random
import re
import xml.etree.ElementTree as ET
from typing import List

import pytest

from spacy_biobert.corpus import CorpusFormatError
from spacy_biobert.corpus.bioc import read_bioc
from spacy_biobert.corpus.brat import read_brat
from tests.corpus.mutations import (
    assert_names_place, canon, check_exact, check_free_change, flips, insertions, read, truncations,
)
from tests.corpus.test_bioc import DOC1, DOC2, _collection
from tests.corpus.test_brat import ANN, TEXT

# --- BioC ---------------------------------------------------------------------------------------------------

XML = _collection(DOC1, DOC2).encode("utf8")


def _bioc(tmp_path, data: bytes):
    path = tmp_path / "m.xml"
    path.write_bytes(data)
    return path, read(read_bioc, path)


@pytest.fixture(scope="module")
def bioc_docs(tmp_path_factory):
    outcome = _bioc(tmp_path_factory.mktemp("bioc"), XML)[1]
    assert [d.doc_id for d in outcome] == ["1", "2"]
    return outcome


def _et_values(data: bytes) -> List[str]:
    """Every text and attribute value of the mutant, parsed by another XML parser (the standard library's)."""
    root = ET.fromstring(data)
    return [v for e in root.iter() for v in (e.text or "", *e.attrib.values())]


def _et_texts(data: bytes) -> List[str]:
    """Each document's text as BioC defines it: passages at their offsets, gaps padded with spaces."""
    texts = []
    for document in ET.fromstring(data).iter("document"):
        text = ""
        for passage in document.iter("passage"):
            text = text.ljust(int(passage.findtext("offset"))) + (passage.findtext("text") or "")
        texts.append(text)
    return texts


def _judge_bioc(path, data: bytes, outcome, docs, what: str) -> None:
    if isinstance(outcome, CorpusFormatError):
        assert_names_place(outcome, path, data.count(b"\n") + 1, record_ok=True)
        return
    values = _et_values(data)
    check_free_change(outcome, docs, lambda v: any(v in w for w in values), lambda d: d.text in _et_texts(data),
                      what, free_id=True)


def test_bioc_truncation_is_refused(bioc_docs, tmp_path):
    end = XML.rindex(b"</collection>") + len(b"</collection>")
    for cut, mutant in truncations(XML, random.Random(11), 400):
        path, outcome = _bioc(tmp_path, mutant)
        if cut >= end:
            check_exact(outcome, bioc_docs, f"cut at {cut}, after the root element")
        else:
            assert isinstance(outcome, CorpusFormatError), f"cut at {cut} accepted"
            assert_names_place(outcome, path, mutant.count(b"\n") + 1, record_ok=True)


@pytest.mark.parametrize("kind, count, seed", [("flip", 500, 12), ("insert", 400, 13)])
def test_bioc_changed_bytes_are_refused_or_read_literally(bioc_docs, tmp_path, kind, count, seed):
    mutate = flips if kind == "flip" else insertions
    for what, mutant in mutate(XML, random.Random(seed), count, lo=XML.index(b"<collection>")):
        path, outcome = _bioc(tmp_path, mutant)
        _judge_bioc(path, mutant, outcome, bioc_docs, what)


def _twice(xml: str, tag: str) -> str:
    """``xml`` with the first ``<tag>`` element repeated."""
    match = re.search(rf"<{tag}[ >].*?</{tag}>|<{tag} [^>]*/>", xml)
    return xml[: match.end()] + match.group() + xml[match.end():]


@pytest.mark.parametrize("tag", ["document", "passage", "annotation", "location", "relation", "node"])
def test_bioc_repeated_element_is_refused(tmp_path, tag):
    path, outcome = _bioc(tmp_path, _twice(XML.decode("utf8"), tag).encode("utf8"))
    assert isinstance(outcome, CorpusFormatError), f"<{tag}> twice accepted"
    assert_names_place(outcome, path, 0, record_ok=True)


def test_bioc_content_keeping_changes_read_exactly(bioc_docs, tmp_path):
    xml = XML.decode("utf8")
    for what, mutant in {
        "CRLF": xml.replace("\n", "\r\n").encode("utf8"),
        "UTF-8 BOM": b"\xef\xbb\xbf" + XML,
        "latin-1 (ASCII text)": xml.replace('"UTF-8"', '"ISO-8859-1"').encode("latin-1"),
        "infon twice": _twice(xml, "infon").encode("utf8"),
        "relation infons reordered": xml.replace(
            '<infon key="Chemical">D015738</infon><infon key="Disease">D003693</infon>',
            '<infon key="Disease">D003693</infon><infon key="Chemical">D015738</infon>').encode("utf8"),
        "annotation infons reordered": xml.replace(
            '<infon key="MESH">D058186|D007674</infon><infon key="type">Disease</infon>'
            '<infon key="CompositeRole">CompositeMention</infon>',
            '<infon key="CompositeRole">CompositeMention</infon><infon key="MESH">D058186|D007674</infon>'
            '<infon key="type">Disease</infon>').encode("utf8"),
    }.items():
        assert mutant != XML or what == "", what
        check_exact(_bioc(tmp_path, mutant)[1], bioc_docs, what)
    swapped = _collection(DOC2, DOC1).encode("utf8")
    check_exact(_bioc(tmp_path, swapped)[1], bioc_docs[::-1], "documents swapped")
    annotations = re.findall(r"<annotation .*?</annotation>", DOC1)
    doc1 = DOC1.replace(annotations[2] + annotations[3], annotations[3] + annotations[2])
    check_exact(_bioc(tmp_path, _collection(doc1, DOC2).encode("utf8"))[1], bioc_docs, "reordered", ordered=False)


# --- BRAT ---------------------------------------------------------------------------------------------------

def _brat(tmp_path, ann: bytes, txt: bytes = TEXT.encode("utf8")):
    (tmp_path / "d.ann").write_bytes(ann)
    (tmp_path / "d.txt").write_bytes(txt)
    return tmp_path / "d.ann", read(read_brat, tmp_path)


@pytest.fixture(scope="module")
def brat_docs(tmp_path_factory):
    (doc,) = _brat(tmp_path_factory.mktemp("brat"), ANN.encode("utf8"))[1]
    assert len(doc.mentions) == 5 and len(doc.mention_relations) == 2
    return [doc]


def _judge_brat(tmp_path, ann: bytes, txt: bytes, docs, what: str) -> None:
    path, outcome = _brat(tmp_path, ann, txt)
    if isinstance(outcome, CorpusFormatError):
        txt_error = str(outcome).startswith(str(tmp_path / "d.txt"))
        assert_names_place(outcome, tmp_path / "d.txt" if txt_error else path, max(ann, txt).count(b"\n") + 1)
        return
    said = ann.decode("utf8", errors="replace")
    check_free_change(outcome, docs, lambda v: v in said, lambda d: d.text.encode("utf8") == txt, what)


@pytest.mark.parametrize("kind, count, seed", [("flip", 400, 21), ("insert", 300, 22)])
def test_brat_changed_bytes_are_refused_or_read_literally(brat_docs, tmp_path, kind, count, seed):
    mutate = flips if kind == "flip" else insertions
    rng, ann, txt = random.Random(seed), ANN.encode("utf8"), TEXT.encode("utf8")
    for what, mutant in mutate(ann, rng, count):
        _judge_brat(tmp_path, mutant, txt, brat_docs, f".ann {what}")
    for what, mutant in mutate(txt, rng, count // 2):
        _judge_brat(tmp_path, ann, mutant, brat_docs, f".txt {what}")
    for cut, mutant in truncations(txt, rng, 0):
        _judge_brat(tmp_path, ann, mutant, brat_docs, f".txt cut at {cut}")


def test_brat_ann_truncation_keeps_whole_lines_or_is_refused(brat_docs, tmp_path):
    (old,) = brat_docs
    for cut, mutant in truncations(ANN.encode("utf8"), random.Random(23), 200):
        path, outcome = _brat(tmp_path, mutant)
        if cut and not mutant.endswith(b"\n"):
            assert isinstance(outcome, CorpusFormatError), f"cut at {cut} accepted"
            assert_names_place(outcome, path, mutant.count(b"\n") + 1)
            continue
        # a shorter file: nothing but a subset of the annotations, each unchanged or missing a later N/A line
        (new,) = outcome
        kept_t = sum(line.startswith(b"T") for line in mutant.split(b"\n"))
        assert new.text == old.text and len(new.mentions) == kept_t, f"cut at {cut}"
        for a, b in zip(old.mentions, new.mentions):
            assert (a.start, a.end, a.text, a.label, a.key) == (b.start, b.end, b.text, b.label, b.key)
            assert b.kb_id in ("", a.kb_id) and a.extra[: len(b.extra)] == b.extra, f"cut at {cut}"
        assert set(new.mention_relations) <= set(old.mention_relations), f"cut at {cut}"


def test_brat_repeated_or_reordered_lines(brat_docs, tmp_path):
    lines = ANN.splitlines(keepends=True)
    for number, line in enumerate(lines):
        path, outcome = _brat(tmp_path, "".join(lines[: number + 1] + lines[number:]).encode("utf8"))
        if line.startswith("#"):  # notes are ignored
            check_exact(outcome, brat_docs, "note twice")
        else:
            assert isinstance(outcome, CorpusFormatError), f"line {number + 1} twice accepted"
            assert_names_place(outcome, path, len(lines) + 1)
    for seed in range(5):
        shuffled = random.Random(seed).sample(lines, len(lines))
        check_exact(_brat(tmp_path, "".join(shuffled).encode("utf8"))[1], brat_docs, f"shuffle {seed}", ordered=False)
    for what, ann in {"CRLF .ann": ANN.replace("\n", "\r\n"), "BOM .ann": "\ufeff" + ANN}.items():
        check_exact(_brat(tmp_path, ann.encode("utf8"))[1], brat_docs, what)
    refused = {"CRLF .txt": TEXT.replace("\n", "\r\n").encode("utf8"), "UTF-16 .txt": TEXT.encode("utf-16")}
    for what, txt in refused.items():
        assert isinstance(_brat(tmp_path, ANN.encode("utf8"), txt)[1], CorpusFormatError), what
    assert canon(brat_docs[0]) == canon(_brat(tmp_path, ANN.encode("utf8"), TEXT.encode("latin-1"))[1][0])
