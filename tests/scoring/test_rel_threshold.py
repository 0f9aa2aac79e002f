"""Tuning the relation threshold on dev: max concept-level F over stored scores, ties to the higher threshold."""
import pytest
import spacy
from spacy.training import Example

from spacy_biobert.relations import set_concept_relations
from spacy_biobert.scoring.rel import score_relations
from spacy_biobert.scoring.rel_threshold import DEFAULT_THRESHOLDS, concept_prf, tune_threshold
from tests.util import REL_TOY, rel_reference


def examples_with(*predictions):
    """One example per ``REL_TOY`` row (gold: (C1, D1); (C3, D3), (C4, D3)), predicted relations as given."""
    nlp = spacy.blank("en")
    out = []
    for row, predicted in zip(REL_TOY, predictions):
        ref = rel_reference(nlp, *row)
        doc = nlp.make_doc(ref.text)
        set_concept_relations(doc, predicted)
        out.append(Example(doc, ref))
    return out


def test_picks_the_threshold_of_the_best_f():
    egs = examples_with(
        {("C1", "D1", "CID"): 0.9, ("C2", "D2", "CID"): 0.5},
        {("C3", "D3", "CID"): 0.7, ("C4", "D3", "CID"): 0.35, ("C5", "D4", "CID"): 0.2},
    )
    threshold, scores = tune_threshold(egs)
    # at 0.35 all three gold relations and one wrong one: F = 6/7, better than 0.4-0.5 (R 2/3) and 0.2 (P 3/5)
    assert threshold == 0.35
    assert scores == pytest.approx({"p": 0.75, "r": 1.0, "f": 6 / 7})
    assert scores == pytest.approx({k: score_relations(egs, threshold=0.35)[f"rel_concept_{k}"] for k in "prf"})


def test_a_tie_goes_to_the_higher_threshold():
    egs = examples_with({("C1", "D1", "CID"): 0.8}, {("C3", "D3", "CID"): 0.6, ("C4", "D3", "CID"): 0.6})
    threshold, scores = tune_threshold(egs, thresholds=[0.1, 0.6, 0.3])  # every threshold up to 0.6: F = 1
    assert threshold == 0.6 and scores["f"] == 1.0
    assert tune_threshold(egs)[0] == 0.6
    assert concept_prf(egs, 0.7) == pytest.approx({"p": 1.0, "r": 1 / 3, "f": 0.5})


def test_no_prediction_scores_zero_and_keeps_the_highest_threshold():
    threshold, scores = tune_threshold(examples_with({}, {}))
    assert threshold == DEFAULT_THRESHOLDS[-1] and scores == {"p": 0.0, "r": 0.0, "f": 0.0}


@pytest.mark.parametrize("examples", [[], "no gold"])
def test_without_gold_relations_it_says_so(examples):
    if examples == "no gold":
        examples = examples_with({("C1", "D1", "CID"): 0.9})
        set_concept_relations(examples[0].reference, {})
    with pytest.raises(ValueError, match="no gold concept relation"):
        tune_threshold(examples)


def test_an_empty_threshold_list_is_an_error():
    with pytest.raises(ValueError, match="thresholds is empty"):
        tune_threshold(examples_with({}), thresholds=[])
