"""Relation scoring: concept-level P/R/F, predicted concepts mapped to gold ones by exact character span."""
import spacy
from spacy.tokens import Span
from spacy.training import Example

from spacy_biobert.relations import set_concept_relations
from spacy_biobert.scoring.rel import score_relations
from tests.util import REL_TOY, rel_reference


def test_scorer_maps_predicted_concepts_by_exact_char_span():
    nlp = spacy.blank("en")
    ref = rel_reference(nlp, *REL_TOY[0])
    pred = nlp.make_doc(ref.text)
    pred.ents = [Span(pred, 0, 1, "Chemical"), Span(pred, 11, 12, "Disease"), Span(pred, 13, 15, "Chemical")]
    set_concept_relations(pred, {("text:cisplatin", "text:nephrotoxicity", "CID"): 0.9,
                                 ("text:aspirin did", "text:nephrotoxicity", "CID"): 0.8})
    scores = score_relations([Example(pred, ref)], threshold=0.5)
    assert (scores["rel_concept_p"], scores["rel_concept_r"]) == (0.5, 1.0)  # "Aspirin did" matches no gold span
    assert score_relations([Example(pred, ref)], threshold=0.95)["rel_concept_r"] == 0.0
