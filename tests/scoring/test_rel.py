"""Relation scoring: concept-level P/R/F, predicted concepts mapped to gold ones by exact character span."""
import spacy
from spacy.tokens import Span
from spacy.training import Example

from spacy_biobert.relations import set_concept_relations
from spacy_biobert.scoring.rel import score_relations
from tests.util import REL_TOY, rel_reference


def test_oracle_linking_maps_predicted_concepts_by_exact_char_span_the_honest_score_does_not():
    nlp = spacy.blank("en")
    ref = rel_reference(nlp, *REL_TOY[0])
    pred = nlp.make_doc(ref.text)
    pred.ents = [Span(pred, 0, 1, "Chemical"), Span(pred, 11, 12, "Disease"), Span(pred, 13, 15, "Chemical")]
    set_concept_relations(pred, {("text:cisplatin", "text:nephrotoxicity", "CID"): 0.9,
                                 ("text:aspirin did", "text:nephrotoxicity", "CID"): 0.8})
    scores = score_relations([Example(pred, ref)], threshold=0.5)
    # "Aspirin did" matches no gold span
    assert (scores["rel_concept_oracle_p"], scores["rel_concept_oracle_r"]) == (0.5, 1.0)
    assert (scores["rel_concept_p"], scores["rel_concept_r"]) == (0.0, 0.0)  # unlinked: no gold id, no credit
    assert score_relations([Example(pred, ref)], threshold=0.95)["rel_concept_oracle_r"] == 0.0


def test_honest_score_uses_the_ids_the_pipeline_predicted():
    nlp = spacy.blank("en")
    ref = rel_reference(nlp, *REL_TOY[0])  # gold: (C1, D1, CID)
    pred = nlp.make_doc(ref.text)
    pred.ents = [Span(pred, 0, 1, "Chemical", kb_id="C1"), Span(pred, 11, 12, "Disease", kb_id="D9")]  # wrong id
    set_concept_relations(pred, {("C1", "D9", "CID"): 0.9})
    scores = score_relations([Example(pred, ref)], threshold=0.5)
    assert scores["rel_concept_f"] == 0.0 and scores["rel_concept_oracle_f"] == 1.0
    set_concept_relations(pred, {("C1", "D1", "CID"): 0.9})
    assert score_relations([Example(pred, ref)], threshold=0.5)["rel_concept_f"] == 1.0
