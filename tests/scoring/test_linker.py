"""Linker scoring: mention accuracy and document-level normalisation P/R/F, and the wiring into nlp.evaluate."""
import pytest
import spacy
from spacy.tokens import Span, SpanGroup
from spacy.training import Example

from spacy_biobert.corpus import MENTIONS_KEY
from spacy_biobert.kb import KnowledgeBase
from spacy_biobert.scoring.linker import gold_mentions, score_linking
from tests.util import entity_doc

# ENTITY_TEXT: "Famotidine caused delirium and acute renal failure in two patients ."; gold ids D015738,
# D003693, D058186|D007674


def predicted(nlp, ids):
    doc = nlp.make_doc(entity_doc(nlp).text)
    spans = [(0, 1, "Chemical"), (2, 3, "Disease"), (4, 7, "Disease")]
    doc.ents = [Span(doc, s, e, label, kb_id=cid) for (s, e, label), cid in zip(spans, ids)]
    return doc


def test_perfect(nlp):
    scores = score_linking([Example(predicted(nlp, ["D015738", "D003693", "D058186|D007674"]), entity_doc(nlp))])
    assert scores["linker_mention_acc"] == 1.0 and scores["linker_doc_f"] == 1.0
    assert set(scores["linker_doc_per_type"]) == {"Chemical", "Disease"}


def test_composite_gold_accepts_a_part_but_doc_level_misses_the_other(nlp):
    scores = score_linking([Example(predicted(nlp, ["D015738", "D003693", "D058186"]), entity_doc(nlp))])
    assert scores["linker_mention_acc"] == 1.0
    assert scores["linker_doc_p"] == 1.0 and scores["linker_doc_r"] == pytest.approx(3 / 4)
    assert scores["linker_doc_per_type"]["Chemical"]["f"] == 1.0


def test_wrong_and_nil(nlp):
    scores = score_linking([Example(predicted(nlp, ["D000001", "", "D058186|D007674"]), entity_doc(nlp))])
    assert scores["linker_mention_acc"] == pytest.approx(1 / 3)
    assert scores["linker_doc_p"] == pytest.approx(2 / 3) and scores["linker_doc_r"] == pytest.approx(2 / 4)


def test_document_level_counts_a_concept_once(nlp):
    gold = nlp.make_doc("lithium and lithium")
    gold.ents = [Span(gold, 0, 1, "Chemical", kb_id="D1"), Span(gold, 2, 3, "Chemical", kb_id="D1")]
    pred = nlp.make_doc(gold.text)
    pred.ents = [Span(pred, 0, 1, "Chemical", kb_id="D1"), Span(pred, 2, 3, "Chemical", kb_id="D2")]
    scores = score_linking([Example(pred, gold)])
    assert scores["linker_mention_acc"] == 0.5
    assert scores["linker_doc_r"] == 1.0 and scores["linker_doc_p"] == 0.5


def test_mention_group_with_original_offsets_and_missing_ids(nlp):
    gold = entity_doc(nlp)
    group = SpanGroup(gold, name=MENTIONS_KEY, spans=[*gold.ents, Span(gold, 5, 6, "Disease", kb_id="-1")])
    group.attrs["char_offsets"] = tuple((e.start_char, e.end_char) for e in gold.ents) + ((37, 50),)
    gold.spans[MENTIONS_KEY] = group
    mentions = gold_mentions(gold)
    assert len(mentions) == 4 and mentions[-1] == (((37, 50), (37, 42)), "Disease", ())
    assert score_linking([Example(predicted(nlp, ["D015738", "D003693", "D058186|D007674"]), gold)])[
        "linker_mention_acc"] == 1.0


def test_nothing_to_score(nlp):
    doc = nlp("no entities")
    assert score_linking([Example(doc, doc)])["linker_doc_f"] is None


def test_nlp_evaluate_reports_linker_scores(nlp):
    gold = entity_doc(nlp)
    kb = KnowledgeBase()
    for ent in gold.ents:
        for cid in ent.kb_id_.split("|"):
            kb.add(cid, [ent.text], label=ent.label_)
    eval_nlp = spacy.blank("en")
    eval_nlp.add_pipe("biobert_linker").set_kb(kb)
    doc = eval_nlp.make_doc(gold.text)
    doc.ents = [Span(doc, e.start, e.end, e.label_) for e in gold.ents]  # the linker's input: unlinked mentions
    scores = eval_nlp.evaluate([Example(doc, gold)])
    assert scores["linker_mention_acc"] == 1.0 and scores["linker_doc_p"] == 1.0
    assert scores["linker_doc_r"] == pytest.approx(3 / 4)  # one id per mention: D007674 of the composite is missed
