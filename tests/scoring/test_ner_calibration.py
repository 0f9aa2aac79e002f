"""Tuning biobert_ner's outside weight on dev: best entity F over a grid of weights, ties to the larger weight."""
from typing import List

import pytest
import spacy
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc, Span
from spacy.training import Example

from spacy_biobert.scoring.ner_calibration import DEFAULT_OUTSIDE_WEIGHTS, tune_outside_weight
from tests.util import NER_TRAIN, make_ner_nlp, ner_examples, train_ner

pytestmark = pytest.mark.usefixtures("one_torch_thread")

DEV = NER_TRAIN + [("Rats with cocaine .", [(10, 17, "Chemical")])]


class StubNER:
    """Entities of "Famotidine induced delirium in rats ." by outside weight: >= 0.5 Famotidine only; 0.2-0.4
    Famotidine and delirium (both gold); below 0.2 also a wrong "rats"."""

    def __init__(self) -> None:
        self.cfg = {"outside_weight": 1.0}
        self.predicted = 0

    @property
    def outside_weight(self) -> float:
        return self.cfg["outside_weight"]

    @outside_weight.setter
    def outside_weight(self, weight: float) -> None:
        self.cfg["outside_weight"] = weight

    def __call__(self, doc: Doc) -> Doc:
        return doc

    def predict(self, docs: List[Doc]) -> List[None]:
        self.predicted += 1
        return [None] * len(docs)

    def set_annotations(self, docs: List[Doc], probs: List[None]) -> None:
        weight = self.cfg["outside_weight"]
        for doc in docs:
            spans = [Span(doc, 0, 1, "Chemical")]
            if weight < 0.5:
                spans.append(Span(doc, 2, 3, "Disease"))
            if weight < 0.2:
                spans.append(Span(doc, 4, 5, "Disease"))
            doc.set_ents(spans, default="outside")


@Language.factory("test_stub_outside_ner")
def make_stub(nlp: Language, name: str) -> StubNER:
    return StubNER()


def stub_pipeline():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("test_stub_outside_ner", name="ner")
    return nlp, ner_examples(nlp, NER_TRAIN[:1])


def test_picks_the_best_f_and_a_tie_goes_to_the_larger_weight():
    nlp, egs = stub_pipeline()
    weight, scores, results = tune_outside_weight(nlp, egs, "ner")
    # 0.4, 0.3 and 0.2 all find exactly the gold entities (F = 1): the largest of them wins
    assert weight == 0.4 and scores == {"p": 1.0, "r": 1.0, "f": 1.0}
    assert list(results) == sorted(DEFAULT_OUTSIDE_WEIGHTS, reverse=True)
    assert results[1.0] == pytest.approx({"p": 1.0, "r": 0.5, "f": 2 / 3})
    assert results[0.1] == pytest.approx({"p": 2 / 3, "r": 1.0, "f": 0.8})
    assert nlp.get_pipe("ner").cfg["outside_weight"] == 0.4
    assert nlp.get_pipe("ner").predicted == 1  # the model runs once per batch, not once per weight
    assert not egs[0].predicted.ents and not egs[0].predicted.has_annotation("SENT_START")  # examples untouched
    assert tune_outside_weight(nlp, egs, "ner", weights=[0.3, 0.2])[0] == 0.3
    assert tune_outside_weight(nlp, egs, "ner", weights=[0.6, 1.0, 0.8])[0] == 1.0  # all tie: closest to 1.0


@pytest.fixture(scope="module")
def trained(tiny_bert):
    nlp = make_ner_nlp(tiny_bert)
    train_ner(nlp, ner_examples(nlp), steps=30)
    return nlp


def test_tunes_a_trained_pipeline_consistently_with_score_spans(trained):
    nlp, ner = trained, trained.get_pipe("biobert_ner")
    egs = ner_examples(nlp, DEV)
    with ner.temporarily(outside_weight=ner.outside_weight):  # tuning leaves the best weight; the old one after
        weight, scores, results = tune_outside_weight(nlp, egs, batch_size=2)
        assert weight in DEFAULT_OUTSIDE_WEIGHTS and set(results) == set(DEFAULT_OUTSIDE_WEIGHTS)
        assert ner.outside_weight == weight and scores == results[weight]
        assert scores["f"] == max(r["f"] for r in results.values())
        assert all(not eg.predicted.ents for eg in egs)
        for w in (weight, 0.01):
            with ner.temporarily(outside_weight=w):
                docs = list(nlp.pipe(text for text, _ in DEV))
            expected = Scorer.score_spans([Example(d, eg.reference) for d, eg in zip(docs, egs)], "ents")
            assert results[w] == pytest.approx({k: expected[f"ents_{k}"] for k in "prf"})


def test_clear_errors(trained):
    nlp = trained
    egs = ner_examples(nlp, DEV)
    with pytest.raises(ValueError, match="no component 'nope' in the pipeline; its components: transformer, biobert_n"):
        tune_outside_weight(nlp, egs, "nope")
    with pytest.raises(ValueError, match="no examples"):
        tune_outside_weight(nlp, [])
    with pytest.raises(ValueError, match="no gold entity in the 2 examples"):
        tune_outside_weight(nlp, ner_examples(nlp, [(text, []) for text, _ in NER_TRAIN]))
    with pytest.raises(ValueError, match="every weight must be > 0, got 0.0"):
        tune_outside_weight(nlp, egs, weights=[1.0, 0.0])
    with pytest.raises(ValueError, match="no weight to try"):
        tune_outside_weight(nlp, egs, weights=[])
    assert nlp.get_pipe("biobert_ner").cfg["outside_weight"] == 1.0
