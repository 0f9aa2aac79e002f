"""Writers of output records against the formats' definitions: CDR test written through each writer matches the
original file (text, sections, offsets), golden files per format, BioC read back by the ``bioc`` library."""
import gzip
import json
import re
from pathlib import Path

import bioc
import pytest

from spacy_biobert.concepts import split_ids, text_concept_id
from spacy_biobert.corpus.bioc import read_bioc
from spacy_biobert.corpus.pubtator import read_pubtator
from spacy_biobert.kb import KnowledgeBase
from spacy_biobert.output.record import SCHEMA, SCHEMA_VERSION, doc_to_record
from spacy_biobert.output.writers import BiocWriter, JsonlWriter, PubtatorWriter
from tests.output.test_record import annotated_doc, small_kb, titled_doc

GOLDEN = Path(__file__).parent / "golden"


def records():
    first = doc_to_record(annotated_doc())
    second = dict(first, id="456", text="Aspirin\tgiven .\nNo fever .", entities=[], relations=[], concept_relations=[])
    return [first, second]


def write(writer_class, path, recs):
    with writer_class(path) as writer:
        for record in recs:
            writer.write(record)
    return writer


def source_record(source):
    """The record of a gold document as read from a file: its mentions as entities, in file order."""
    entities = [
        {"id": f"T{i}", "label": m.label, "start": m.start, "end": m.end, "text": m.text, "confidence": None,
         "concepts": [{"id": cid, "name": None, "score": None} for cid in split_ids(m.kb_id) or [text_concept_id(m.text)]],
         "candidates": []}
        for i, m in enumerate(source.mentions)
    ]
    return {"schema": SCHEMA, "version": SCHEMA_VERSION, "id": source.doc_id, "text": source.text,
            "sections": [{"type": s.type, "start": s.start, "end": s.end} for s in source.sections],
            "entities": entities, "relations": [],
            "concept_relations": [{"head": h, "tail": t, "label": lab, "score": 1.0}
                                  for h, t, lab in source.concept_relations]}


@pytest.fixture(scope="module")
def cdr_test(cdr_dir):
    path = cdr_dir / "test.pubtator.gz"
    return gzip.decompress(path.read_bytes()).decode("utf8"), [source_record(s) for s in read_pubtator(path)]


def cdr_as_we_write_it(original: str) -> str:
    """CDR's file as PubTator can hold our records: an unknown id ``-1`` is ``-``, no 7th (composite parts) column,
    one blank line after every document."""
    blocks = []
    for block in original.strip("\n").split("\n\n"):
        lines = []
        for line in block.split("\n"):
            fields = line.split("\t")
            if len(fields) >= 6:
                fields = fields[:5] + ["-" if fields[5] == "-1" else fields[5]]
            lines.append("\t".join(fields))
        blocks.append("\n".join(lines) + "\n\n")
    return "".join(blocks)


def test_cdr_test_through_the_pubtator_writer_is_the_original_file(cdr_test, tmp_path):
    original, recs = cdr_test
    writer = write(PubtatorWriter, tmp_path / "cdr.pubtator", recs)
    written = (tmp_path / "cdr.pubtator").read_text(encoding="utf8")
    assert written == cdr_as_we_write_it(original)  # byte for byte: titles, abstracts, offsets, ids, relations
    assert writer.written == 500 and set(writer.lossy) == {"scores (PubTator has none) (documents)"}


def identifier(entity):
    """The database ids of a record entity, as BioC's ``identifier`` infon (None without one)."""
    return "|".join(c["id"] for c in entity["concepts"] if not c["id"].startswith("text:")) or None


def test_cdr_test_through_the_bioc_writer_has_one_passage_per_section(cdr_test, cdr_dir, tmp_path):
    original, recs = cdr_test
    write(BiocWriter, tmp_path / "cdr.xml", recs)
    with (tmp_path / "cdr.xml").open(encoding="utf8") as handle:
        collection = bioc.load(handle)  # the bioc library's own reader
    titles = [line.split("|", 2) for line in original.split("\n") if line.split("|", 2)[1:2] == ["t"]]
    abstracts = [line.split("|", 2)[2] for line in original.split("\n") if line.split("|", 2)[1:2] == ["a"]]
    assert [d.id for d in collection.documents] == [doc_id for doc_id, _, _ in titles]
    for document, (_, _, title), abstract, record in zip(collection.documents, titles, abstracts, recs):
        assert [(p.infons["type"], p.offset, p.text) for p in document.passages] == [
            ("title", 0, title), ("abstract", len(title) + 1, abstract)]
        found = [(a.locations[0].offset, a.locations[0].end, a.text, a.infons["type"], a.infons.get("identifier"))
                 for p in document.passages for a in p.annotations]
        assert found == [(e["start"], e["end"], e["text"], e["label"], identifier(e)) for e in record["entities"]]
        for passage in document.passages:  # each annotation sits in its passage, at document offsets
            for ann in passage.annotations:
                start = ann.locations[0].offset - passage.offset
                assert passage.text[start:start + ann.locations[0].length] == ann.text
    ours = {d.doc_id: d for d in read_pubtator(cdr_dir / "test.pubtator.gz")}
    for doc in read_bioc(tmp_path / "cdr.xml"):  # our reader: the same text, sections and mentions
        assert (doc.text, doc.sections) == (ours[doc.doc_id].text, ours[doc.doc_id].sections)
        assert [(m.start, m.end, m.text) for m in doc.mentions] == [(m.start, m.end, m.text) for m in ours[doc.doc_id].mentions]
        assert doc.concept_relations == ours[doc.doc_id].concept_relations


def test_cdr_test_through_the_jsonl_writer_is_the_records(cdr_test, tmp_path):
    _, recs = cdr_test
    write(JsonlWriter, tmp_path / "cdr.jsonl", recs)
    assert [json.loads(line) for line in (tmp_path / "cdr.jsonl").read_text(encoding="utf8").splitlines()] == recs


@pytest.mark.parametrize("writer_class, name", [(JsonlWriter, "titled.jsonl"), (PubtatorWriter, "titled.pubtator"),
                                                (BiocWriter, "titled.xml")])
def test_golden_file(writer_class, name, tmp_path):
    """A record with a title, linked and unlinked entities, names and relations, written as the golden file."""
    write(writer_class, tmp_path / name, [doc_to_record(titled_doc(), kb=small_kb())])
    today = re.compile("<date>[^<]*</date>")  # BioC's collection date: the day it was written
    written, golden = ((folder / name).read_text(encoding="utf8") for folder in (tmp_path, GOLDEN))
    assert today.sub("<date/>", written) == today.sub("<date/>", golden)


def test_unlinked_entities_get_no_identifier(tmp_path):
    record = doc_to_record(titled_doc(), kb=small_kb())
    write(PubtatorWriter, tmp_path / "out.pubtator", [record])
    lines = (tmp_path / "out.pubtator").read_text(encoding="utf8").splitlines()
    assert lines[:2] == ["42|t|Lithium-induced tremor.", "42|a|Lithium caused tremor and polyuria in two rats."]
    assert lines[6].split("\t")[3:] == ["polyuria", "Disease", "-"]
    assert not any("text:" in line for line in lines)
    write(BiocWriter, tmp_path / "out.xml", [record])
    with (tmp_path / "out.xml").open(encoding="utf8") as handle:
        anns = [a for p in bioc.load(handle).documents[0].passages for a in p.annotations]
    assert [a.infons.get("identifier") for a in anns] == ["D008094", "D014202", "D008094", "D014202", None]
    assert [a.infons.get("name") for a in anns] == ["Lithium", "Tremor", "Lithium", "Tremor", None]


def test_a_kb_name_xml_cannot_hold_is_left_out_and_counted_not_a_crash(tmp_path):
    kb = KnowledgeBase()
    kb.add("D008094", ["Lithium"], label="Chemical")
    kb.add("D014202", ["Tremor\x01s"], label="Disease")  # a control character from a KB source (TSV)
    record = doc_to_record(titled_doc(), kb=kb)
    writer = write(BiocWriter, tmp_path / "out.xml", [record, dict(record, id="43")])
    assert writer.written == 2 and writer.lossy["KB names XML cannot hold, left out of the 'name' infon"] == 4
    with (tmp_path / "out.xml").open(encoding="utf8") as handle:
        docs = bioc.load(handle).documents
    anns = [a for p in docs[1].passages for a in p.annotations]
    assert [a.infons.get("identifier") for a in anns] == ["D008094", "D014202", "D008094", "D014202", None]
    assert [a.infons.get("name") for a in anns] == ["Lithium", None, "Lithium", None, None]


def mentions(source):
    return [(m.start, m.end, m.text, m.label, m.kb_id) for m in source.mentions]


def expected_mentions(record):
    return [(e["start"], e["end"], e["text"], e["label"], "|".join(c["id"] for c in e["concepts"]))
            for e in record["entities"]]


def test_jsonl_is_the_records(tmp_path):
    recs = records()
    writer = write(JsonlWriter, tmp_path / "out.jsonl", recs)
    assert [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()] == recs
    assert writer.written == 2 and not writer.lossy


def test_bioc_round_trip_of_text_without_sections(tmp_path):
    recs = records()
    writer = write(BiocWriter, tmp_path / "out.xml", recs)
    assert writer.lossy == {"entities without a label written with type 'unlabelled'": 1,
                            "concept relations of an entity without a database id": 1}
    docs = list(read_bioc(tmp_path / "out.xml"))
    assert [d.doc_id for d in docs] == ["123", "456"] and [d.text for d in docs] == [r["text"] for r in recs]
    assert [(s.start, s.end) for s in docs[0].sections] == [(0, len(recs[0]["text"]))]  # one passage
    assert mentions(docs[0])[:2] == expected_mentions(recs[0])[:2]
    assert mentions(docs[0])[2] == (36, 47, "ototoxicity", "Disease", "")  # no identifier: read back unlinked
    assert mentions(docs[0])[3] == (51, 55, "rats", "unlabelled", "")  # counted in writer.lossy
    assert docs[0].concept_relations == [("D002945", "D007674", "CID")]  # not the one of an unlinked entity
    assert docs[0].mention_relations == [("T0", "T1", "CID"), ("T0", "T3", "AFFECTS")]
    with pytest.raises(ValueError, match="cannot be appended"):
        BiocWriter(tmp_path / "out.xml", append=True).__enter__()


def test_pubtator_round_trip_and_what_it_cannot_hold(tmp_path):
    recs = records()
    writer = write(PubtatorWriter, tmp_path / "out.pubtator", recs)
    docs = list(read_pubtator(tmp_path / "out.pubtator"))
    assert docs[0].text == recs[0]["text"] + " "  # no title: all of it is the title
    assert docs[1].text == "Aspirin given . No fever ."  # split at the line break: same length, offsets exact
    assert mentions(docs[0])[:2] == expected_mentions(recs[0])[:2]
    assert mentions(docs[0])[2:] == [(36, 47, "ototoxicity", "Disease", "-"), (51, 55, "rats", "", "-")]
    assert docs[0].concept_relations == [("D002945", "D007674", "CID")]
    assert writer.lossy == {"line breaks or tabs written as spaces (documents)": 1,
                            "text without a title and an abstract: read back with a trailing space (documents)": 1,
                            "concept relations of an entity without a database id": 1,
                            "mention-level relations (PubTator has none)": 2, "scores (PubTator has none) (documents)": 1}


@pytest.mark.parametrize("writer_class, doc_id, text, problem", [
    (PubtatorWriter, "a|b", "x", "PubTator cannot hold it: the id 'a|b' holds '|' at character 1"),
    (PubtatorWriter, "a\nb", "x", r"the id 'a\nb' holds '\n'"),
    (PubtatorWriter, "a", "x\x00y", r"the text holds '\x00' at character 1"),
    (BiocWriter, "a", "x\x01", r"BioC XML cannot hold it: the text holds '\x01' at character 1"),
    (BiocWriter, "\x0b", "x", r"the id '\x0b' holds"),
])
def test_a_document_the_format_cannot_hold_is_refused(tmp_path, writer_class, doc_id, text, problem):
    with writer_class(tmp_path / "out") as writer:
        assert problem in writer.refusal(doc_id, text)
        with pytest.raises(ValueError) as err:
            writer.write(dict(records()[1], id=doc_id, text=text))
        assert str(err.value).startswith(f"document {doc_id!r}: ") and problem in str(err.value)
        assert writer.refusal("a b", "Tabs\tand\nbreaks .") is None and writer.written == 0
