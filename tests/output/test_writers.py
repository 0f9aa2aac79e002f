"""Writers of output records: JSONL, BioC XML and PubTator, read back by our own converters."""
import json

import pytest

from spacy_biobert.corpus.bioc import read_bioc
from spacy_biobert.corpus.pubtator import read_pubtator
from spacy_biobert.output.record import doc_to_record
from spacy_biobert.output.writers import BiocWriter, JsonlWriter, PubtatorWriter
from tests.output.test_record import annotated_doc


def records():
    first = doc_to_record(annotated_doc())
    second = dict(first, id="456", text="Aspirin\tgiven .\nNo fever .", entities=[], relations=[], concept_relations=[])
    return [first, second]


def write(writer_class, path, recs):
    with writer_class(path) as writer:
        for record in recs:
            writer.write(record)
    return writer


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


def test_bioc_round_trip(tmp_path):
    recs = records()
    writer = write(BiocWriter, tmp_path / "out.xml", recs)
    assert writer.lossy == {"entities without a label written with type 'unlabelled'": 1}
    docs = list(read_bioc(tmp_path / "out.xml"))
    assert [d.doc_id for d in docs] == ["123", "456"] and [d.text for d in docs] == [r["text"] for r in recs]
    assert mentions(docs[0])[:3] == expected_mentions(recs[0])[:3]
    assert mentions(docs[0])[3] == (51, 55, "rats", "unlabelled", "text:rats")  # counted in writer.lossy
    assert set(docs[0].concept_relations) == {(r["head"], r["tail"], r["label"]) for r in recs[0]["concept_relations"]}
    assert docs[0].mention_relations == [("T0", "T1", "CID"), ("T0", "T3", "AFFECTS")]
    with pytest.raises(ValueError, match="cannot be appended"):
        BiocWriter(tmp_path / "out.xml", append=True).__enter__()


def test_pubtator_round_trip_and_what_it_cannot_hold(tmp_path):
    recs = records()
    writer = write(PubtatorWriter, tmp_path / "out.pubtator", recs)
    docs = list(read_pubtator(tmp_path / "out.pubtator"))
    assert docs[0].text == recs[0]["text"] and docs[1].text == "Aspirin given . No fever ."  # same length, offsets exact
    assert mentions(docs[0]) == expected_mentions(recs[0])
    assert set(docs[0].concept_relations) == {(r["head"], r["tail"], r["label"]) for r in recs[0]["concept_relations"]}
    assert writer.lossy == {"line breaks or tabs written as spaces (documents)": 1,
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
