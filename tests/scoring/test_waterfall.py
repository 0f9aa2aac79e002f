"""The end-to-end waterfall: gold concept relations found by NER, linked to the right ids, predicted."""
import spacy
from spacy.tokens import Span
from spacy.training import Example

from spacy_biobert.relations import set_concept_relations
from spacy_biobert.scoring.waterfall import pair_waterfall
from tests.util import REL_TOY, rel_reference


def test_each_gold_pair_stops_at_the_first_stage_it_fails():
    nlp = spacy.blank("en")
    # doc 1: gold (C1, D1); doc 2: gold (C3, D3), (C4, D3)
    ref1, ref2 = (rel_reference(nlp, *row) for row in REL_TOY)
    pred1 = nlp.make_doc(ref1.text)  # both found and linked, predicted above the threshold
    pred1.ents = [Span(pred1, 0, 1, "Chemical", kb_id="C1"), Span(pred1, 11, 12, "Disease", kb_id="D1")]
    set_concept_relations(pred1, {("C1", "D1", "CID"): 0.9})
    pred2 = nlp.make_doc(ref2.text)
    # Lithium (C3) found but linked to a wrong id; haloperidol (C4) found and linked; Tremor (D3) found and linked;
    # the (C4, D3) pair is scored below the threshold
    pred2.ents = [Span(pred2, 0, 1, "Chemical", kb_id="C9"), Span(pred2, 5, 6, "Disease", kb_id="D3"),
                  Span(pred2, 8, 9, "Chemical", kb_id="C4")]
    set_concept_relations(pred2, {("C4", "D3", "CID"): 0.3})
    examples = [Example(pred1, ref1), Example(pred2, ref2)]
    assert pair_waterfall(examples, 0.5) == {"gold": 3, "found": 3, "linked": 2, "predicted": 1, "reach": 2}
    assert pair_waterfall(examples, 0.2)["predicted"] == 2


def test_a_mention_with_another_span_reaches_the_head_without_being_found():
    nlp = spacy.blank("en")
    ref = rel_reference(nlp, *REL_TOY[0])
    pred = nlp.make_doc(ref.text)
    # "Cisplatin was" (wrong span) linked to C1; the disease tagged as a Chemical (wrong side)
    pred.ents = [Span(pred, 0, 2, "Chemical", kb_id="C1"), Span(pred, 11, 12, "Chemical", kb_id="D1")]
    assert pair_waterfall([Example(pred, ref)], 0.5) == {"gold": 1, "found": 0, "linked": 0, "predicted": 0,
                                                         "reach": 0}
    pred.ents = [Span(pred, 0, 2, "Chemical", kb_id="C1"), Span(pred, 11, 12, "Disease", kb_id="D1")]
    assert pair_waterfall([Example(pred, ref)], 0.5)["reach"] == 1
