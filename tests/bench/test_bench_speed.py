"""bench/bench_speed.py's attention switch: the encoders rebuilt with eager attention keep their weights, so the
A/B against SDPA times the attention implementation alone."""
import pytest
import spacy

from spacy_biobert.pipeline.inference import encoder_layers
from tests.util import import_bench_script

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TEXTS = ["Cisplatin induced nephrotoxicity in rats.", "Lithium caused tremor and polyuria in two patients."]


@pytest.fixture
def bench_speed(monkeypatch):
    """``bench/bench_speed.py`` imported as the scripts import it (``bench/`` first on ``sys.path``)."""
    return import_bench_script(monkeypatch, "bench_speed", "common")


def ents(nlp):
    return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(TEXTS)]


def test_eager_attention_keeps_the_weights_and_the_predictions(bench_speed, saved_ner_model):
    nlp = spacy.load(saved_ner_model)
    before = ents(nlp)
    assert any(before)
    assert {layer.shims[0]._model.config._attn_implementation for layer in encoder_layers(nlp)} == {"sdpa"}
    bench_speed.set_attention(nlp, "eager")
    models = [layer.shims[0]._model for layer in encoder_layers(nlp)]
    assert models and {m.config._attn_implementation for m in models} == {"eager"}
    assert not any(m.training for m in models)
    assert ents(nlp) == before
