"""The output record: a pure, JSON-serialisable function of an annotated Doc."""
import json

import spacy
from spacy.tokens import Span

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


def test_record_of_an_annotated_doc():
    doc = annotated_doc()
    record = doc_to_record(doc)
    assert (record["schema"], record["version"], record["id"], record["text"]) == (SCHEMA, SCHEMA_VERSION, "123", doc.text)
    assert [(e["id"], e["label"], e["start"], e["end"], e["text"], e["confidence"]) for e in record["entities"]] == [
        ("T0", "Chemical", 0, 9, "Cisplatin", 0.9), ("T1", "Disease", 17, 31, "nephrotoxicity", 0.8),
        ("T2", "Disease", 36, 47, "ototoxicity", 0.7), ("T3", "", 51, 55, "rats", None),  # a relation's non-entity tail
    ]
    assert [c["id"] for c in record["entities"][1]["concepts"]] == ["D007674", "D006311"]
    assert record["entities"][2]["concepts"] == [{"id": "text:ototoxicity", "score": None}]  # below the threshold
    assert record["entities"][2]["candidates"] == [{"id": "D000002", "score": 0.5}]
    assert record["entities"][0]["concepts"] == [{"id": "D002945", "score": 0.93}]
    assert [c["id"] for c in record["entities"][0]["candidates"]] == ["D002945", "D000001"]
    assert record["entities"][1]["candidates"] == [] and record["entities"][1]["concepts"][0]["score"] is None
    assert record["relations"] == [{"head": "T0", "tail": "T1", "label": "CID", "score": 0.75},
                                   {"head": "T0", "tail": "T3", "label": "AFFECTS", "score": 0.6}]
    assert record["concept_relations"][0] == {"head": "D002945", "tail": "D007674", "label": "CID", "score": 0.75}
    assert json.loads(json.dumps(record)) == record
    assert doc_to_record(doc, doc_id="x")["id"] == "x" and doc_to_record(doc) == record  # pure


def test_record_of_an_empty_doc():
    record = doc_to_record(spacy.blank("en")(""))
    assert record["id"] is None and record["text"] == "" and record["entities"] == record["relations"] == []
