"""Tuning the relation threshold on dev: max concept-level F over stored scores, ties to the higher threshold."""
import pytest
import spacy
from spacy.training import Example

from spacy.tokens import Span

from spacy_biobert.corpus.sections import set_sections
from spacy_biobert.relations import get_concept_relations, set_concept_relations
from spacy_biobert.scoring.rel import score_relations
from spacy_biobert.scoring.rel_threshold import (DEFAULT_THRESHOLDS, concept_prf, tune_threshold, tune_title_bonus,
                                                with_title_bonus)
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


def test_title_bonus_raises_title_pairs_and_is_tuned_with_the_threshold():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    out = []
    for row, predicted in zip(REL_TOY, ({("C1", "D1", "CID"): 0.3, ("C2", "D2", "CID"): 0.35},
                                        {("C3", "D3", "CID"): 0.9, ("C4", "D3", "CID"): 0.9})):
        ref = rel_reference(spacy.blank("en"), *row)
        doc = nlp(ref.text)
        doc.ents = [Span(doc, e.start, e.end, e.label_, kb_id=e.kb_id_) for e in ref.ents]
        set_concept_relations(doc, predicted)
        out.append(Example(doc, ref))
    # the titles (first sentences) name one concept each: no title pair
    assert [get_concept_relations(eg.predicted) for eg in with_title_bonus(out, 0.5)] == [
        get_concept_relations(eg.predicted) for eg in out]
    text = out[0].predicted.text
    set_sections(out[0].predicted, [("title", 0, text.index("Aspirin") - 1)])  # Cisplatin ... nephrotoxicity .
    boosted = with_title_bonus(out, 0.5)
    assert get_concept_relations(boosted[0].predicted) == {("C1", "D1", "CID"): 0.8, ("C2", "D2", "CID"): 0.35}
    assert get_concept_relations(out[0].predicted)[("C1", "D1", "CID")] == 0.3  # the input is left alone
    assert tune_threshold(out)[1]["f"] < 0.9  # without the bonus C1-D1 (0.3) ranks below the false C2-D2 (0.35)
    assert tune_title_bonus(out, (0.0, 0.5)) == (0.5, 0.8, {"p": 1.0, "r": 1.0, "f": 1.0})
    with pytest.raises(ValueError, match="no title bonus"):
        tune_title_bonus(out, ())
