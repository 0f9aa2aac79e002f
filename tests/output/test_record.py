"""The output record: a pure, JSON-serialisable function of an annotated Doc."""
import json

import spacy
from spacy.tokens import Span

from spacy_biobert.kb import KnowledgeBase
from spacy_biobert.kb.link_candidates import set_link_candidates
from spacy_biobert.output.record import SCHEMA, SCHEMA_VERSION, doc_to_record
from spacy_biobert.pipeline.ner import NER_SPANS_KEY
from spacy_biobert.relations import set_concept_relations, set_relations


def annotated_doc():
    nlp = spacy.blank("en")
    doc = nlp("Cisplatin caused nephrotoxicity and ototoxicity in rats .")
    doc.ents = [Span(doc, 0, 1, "Chemical", kb_id="D002945"), Span(doc, 2, 3, "Disease", kb_id="D007674|D006311"),
                Span(doc, 4, 5, "Disease")]
    doc.spans[NER_SPANS_KEY] = list(doc.ents)
    doc.spans[NER_SPANS_KEY].attrs["scores"] = (0.9, 0.8, 0.7)
    set_relations(doc, [(doc[0:1], doc[2:3], "CID", 0.75), (doc[0:1], doc[6:7], "AFFECTS", 0.6)])
    set_concept_relations(doc, {("D002945", "D007674", "CID"): 0.75, ("D002945", "text:ototoxicity", "CID"): 0.55})
    set_link_candidates(doc, {(0, 9): [("D002945", 0.93), ("D000001", 0.41)], (36, 47): [("D000002", 0.5)]})
    doc._.biobert_doc_id = "123"
    return doc


TITLE = "Lithium-induced tremor."
ABSTRACT = "Lithium caused tremor and polyuria in two rats."


def small_kb() -> KnowledgeBase:
    kb = KnowledgeBase()
    kb.add("D008094", ["Lithium", "Li"], label="Chemical")
    kb.add("D014202", ["Tremor", "Tremors"], label="Disease")
    return kb


def titled_doc():
    """A title and an abstract: linked entities, an unlinked one, relations of both kinds, linker candidates."""
    doc = spacy.blank("en")(TITLE + " " + ABSTRACT)
    doc._.biobert_doc_id = "42"
    doc._.biobert_sections = [("title", 0, len(TITLE)), ("abstract", len(TITLE) + 1, len(doc.text))]
    found = [("Lithium", "Chemical", "D008094", 0), ("tremor", "Disease", "D014202", 0),
             ("Lithium", "Chemical", "D008094", 20), ("tremor", "Disease", "D014202", 20),
             ("polyuria", "Disease", "", 0)]
    ents = []
    for text, label, kb_id, after in found:
        start = doc.text.index(text, after if after == 0 else len(TITLE))
        ents.append(doc.char_span(start, start + len(text), label=label, kb_id=kb_id))
    doc.ents = ents
    doc.spans[NER_SPANS_KEY] = list(doc.ents)
    doc.spans[NER_SPANS_KEY].attrs["scores"] = (0.99, 0.9, 0.98, 0.875, 0.5)
    polyuria = (doc.ents[4].start_char, doc.ents[4].end_char)
    set_link_candidates(doc, {(0, 7): [("D008094", 1.0)], polyuria: [("D014202", 0.25)]})
    set_relations(doc, [(doc.ents[2], doc.ents[3], "CID", 0.75)])
    set_concept_relations(doc, {("D008094", "D014202", "CID"): 0.9, ("D008094", "text:polyuria", "CID"): 0.625})
    return doc


def test_record_has_sections_and_concept_names_from_the_kb():
    record = doc_to_record(titled_doc(), kb=small_kb())
    assert record["sections"] == [{"type": "title", "start": 0, "end": 23}, {"type": "abstract", "start": 24, "end": 71}]
    assert record["entities"][0]["concepts"] == [{"id": "D008094", "name": "Lithium", "score": 1.0}]
    assert record["entities"][4]["concepts"] == [{"id": "text:polyuria", "name": None, "score": None}]
    assert record["entities"][4]["candidates"] == [{"id": "D014202", "name": "Tremor", "score": 0.25}]
    assert [(r["head_name"], r["tail_name"]) for r in record["concept_relations"]] == [
        ("Lithium", "Tremor"), ("Lithium", None)]
    assert doc_to_record(titled_doc())["entities"][0]["concepts"][0]["name"] is None  # no KB, no names


def test_record_of_an_annotated_doc():
    doc = annotated_doc()
    record = doc_to_record(doc)
    assert (record["schema"], record["version"], record["id"], record["text"]) == (SCHEMA, SCHEMA_VERSION, "123", doc.text)
    assert [(e["id"], e["label"], e["start"], e["end"], e["text"], e["confidence"]) for e in record["entities"]] == [
        ("T0", "Chemical", 0, 9, "Cisplatin", 0.9), ("T1", "Disease", 17, 31, "nephrotoxicity", 0.8),
        ("T2", "Disease", 36, 47, "ototoxicity", 0.7), ("T3", "", 51, 55, "rats", None),  # a relation's non-entity tail
    ]
    assert [c["id"] for c in record["entities"][1]["concepts"]] == ["D007674", "D006311"]
    assert record["entities"][2]["concepts"] == [{"id": "text:ototoxicity", "name": None, "score": None}]  # below
    assert record["entities"][2]["candidates"] == [{"id": "D000002", "name": None, "score": 0.5}]  # the threshold
    assert record["entities"][0]["concepts"] == [{"id": "D002945", "name": None, "score": 0.93}]
    assert [c["id"] for c in record["entities"][0]["candidates"]] == ["D002945", "D000001"]
    assert record["entities"][1]["candidates"] == [] and record["entities"][1]["concepts"][0]["score"] is None
    assert record["relations"] == [{"head": "T0", "tail": "T1", "label": "CID", "score": 0.75},
                                   {"head": "T0", "tail": "T3", "label": "AFFECTS", "score": 0.6}]
    assert record["concept_relations"][0] == {"head": "D002945", "tail": "D007674", "label": "CID", "score": 0.75,
                                              "head_name": None, "tail_name": None}
    assert record["sections"] == []
    assert json.loads(json.dumps(record)) == record
    assert doc_to_record(doc, doc_id="x")["id"] == "x" and doc_to_record(doc) == record  # pure


def test_record_of_an_empty_doc():
    record = doc_to_record(spacy.blank("en")(""))
    assert record["id"] is None and record["text"] == "" and record["entities"] == record["relations"] == []
