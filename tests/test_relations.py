"""The relation store survives every way a Doc travels."""
import pytest
import spacy
from spacy.tokens import Doc, DocBin

from spacy_biobert import Relation, add_relation, set_concept_relations
from tests.util import ENTITY_TEXT, entity_doc


@pytest.fixture
def doc(nlp):
    doc = entity_doc(nlp)
    famotidine, delirium, arf, renal = doc[0:1], doc[2:3], doc[4:7], doc[5:6]
    # head spans may overlap: "renal" sits inside "acute renal failure"
    doc._.biobert_relations = [
        Relation(famotidine, delirium, "CID", 0.9),
        Relation(famotidine, arf, "CID", 0.7),
        (famotidine, renal, "CID"),
    ]
    doc._.biobert_concept_relations = {("D015738", "D003693", "CID"): 0.9, ("D015738", "D058186", "CID"): 0.7}
    return doc


def _summary(doc: Doc):
    mention = [(r.head.start, r.head.end, r.tail.start, r.tail.end, r.label, r.score) for r in doc._.biobert_relations]
    return mention, doc._.biobert_concept_relations


EXPECTED = (
    [(0, 1, 2, 3, "CID", 0.9), (0, 1, 4, 7, "CID", 0.7), (0, 1, 5, 6, "CID", 1.0)],
    {("D015738", "D003693", "CID"): 0.9, ("D015738", "D058186", "CID"): 0.7},
)


def test_read_back_spans_and_scores(doc):
    rels = doc._.biobert_relations
    assert [r.head.text for r in rels] == ["Famotidine"] * 3
    assert [r.tail.text for r in rels] == ["delirium", "acute renal failure", "renal"]
    assert _summary(doc) == EXPECTED


def test_docbin_roundtrip(doc, nlp):
    data = DocBin(docs=[doc], store_user_data=True).to_bytes()
    (loaded,) = DocBin().from_bytes(data).get_docs(nlp.vocab)
    assert _summary(loaded) == EXPECTED


def test_to_bytes_and_copy(doc, nlp):
    assert _summary(Doc(nlp.vocab).from_bytes(doc.to_bytes())) == EXPECTED
    assert _summary(doc.copy()) == EXPECTED


def _relate(doc: Doc) -> Doc:
    add_relation(doc, doc[0:1], doc[2:3], "CID", 0.5)
    set_concept_relations(doc, [("A", "B", "CID")])
    return doc


def test_survives_multiprocessing(nlp):
    nlp.add_pipe("biobert_test_relate")
    docs = list(nlp.pipe([ENTITY_TEXT] * 4, n_process=2, batch_size=1))
    for doc in docs:
        assert _summary(doc) == ([(0, 1, 2, 3, "CID", 0.5)], {("A", "B", "CID"): 1.0})


spacy.Language.component("biobert_test_relate", func=_relate)


def test_duplicates_keep_best_score(doc):
    add_relation(doc, doc[0:1], doc[2:3], "CID", 0.95)
    add_relation(doc, doc[0:1], doc[2:3], "CID", 0.1)
    assert [r.score for r in doc._.biobert_relations if r.tail.text == "delirium"] == [0.95]


def test_invalid_relations_rejected(doc, nlp):
    other = nlp("another doc")
    with pytest.raises(ValueError, match="same Doc"):
        doc._.biobert_relations = [(doc[0:1], other[0:1], "CID")]
    with pytest.raises(ValueError, match="label"):
        doc._.biobert_relations = [(doc[0:1], doc[2:3], "")]
    with pytest.raises(ValueError, match="head_id"):
        doc._.biobert_concept_relations = {("D1", "", "CID"): 1.0}
