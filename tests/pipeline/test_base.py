"""What both heads share (pipeline/_base.py): the initialization check, fixed labels, ``head_lr_scale``."""
import numpy
import pytest
import spacy
from spacy.util import fix_random_seed
from thinc.api import SGD, Adam, Optimizer

import spacy_biobert  # noqa: F401
from tests.util import HASH_TOK2VEC, SHAPE_FEATURES, make_ner_nlp, make_rel_nlp, ner_examples, rel_examples

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def hash_ner(head_lr_scale: float = 1.0):
    """A blank pipeline with biobert_ner on a small hash-embedding tok2vec (no transformer)."""
    nlp = spacy.blank("en")
    model = {"@architectures": "spacy_biobert.NERTagger.v2", "tok2vec": HASH_TOK2VEC, "features": None}
    ner = nlp.add_pipe("biobert_ner", config={"head_lr_scale": head_lr_scale, "model": model})
    return nlp, ner


@pytest.mark.parametrize(
    "factory, text",
    [("biobert_ner", "Famotidine induced delirium."), ("biobert_rel", "Cisplatin caused nephrotoxicity.")],
    ids=["biobert_ner", "biobert_rel"],
)
def test_not_initialized_raises_clear_error(factory, text):
    nlp = spacy.blank("en")
    nlp.add_pipe(factory)
    with pytest.raises(ValueError, match="E109"):
        nlp(text)


def test_labels_are_fixed_after_initialization():
    nlp, ner = hash_ner()
    egs = ner_examples(nlp)
    nlp.initialize(lambda: egs)
    assert ner.labels == ("Chemical", "Disease")
    assert ner.add_label("Chemical") == 0
    with pytest.raises(ValueError, match="E922"):
        ner.add_label("Gene")


def test_ner_head_lr_scale_multiplies_only_the_output_layer_step():
    deltas = []
    for scale in (1.0, 20.0):
        fix_random_seed(0)
        nlp, ner = hash_ner(scale)
        egs = ner_examples(nlp)
        nlp.initialize(lambda: egs)
        output_layer = ner.model.get_ref("output_layer")
        before = output_layer.get_param("W").copy()
        ner.update(egs, sgd=SGD(0.001, L2=0.0, grad_clip=0.0))
        deltas.append(output_layer.get_param("W") - before)
    assert numpy.abs(deltas[0]).sum() > 0
    numpy.testing.assert_allclose(deltas[1], 20 * deltas[0], rtol=1e-4, atol=1e-8)


def test_rel_head_lr_scale_speeds_up_the_head_only(tiny_bert):
    moved = {}
    for scale in (1.0, 20.0):
        nlp = make_rel_nlp(tiny_bert, head_lr_scale=scale)
        egs = rel_examples(nlp)
        nlp.initialize(lambda: egs)
        output = nlp.get_pipe("biobert_rel").model.layers[2].layers[-1]
        before = output.get_param("W").copy()
        optimizer = Adam(0.0001)
        for _ in range(3):
            nlp.update(egs, sgd=optimizer)
        moved[scale] = float(numpy.abs(output.get_param("W") - before).sum())
    assert moved[20.0] > 5 * moved[1.0] > 0


class RecordingOptimizer(Optimizer):
    """Adam that records the ``lr_scale`` it is called with, per parameter key."""

    def __init__(self) -> None:
        super().__init__(0.001)
        self.scales = {}

    def __call__(self, key, param, grad, *, lr_scale: float = 1.0):
        self.scales[key] = lr_scale
        return super().__call__(key, param, grad, lr_scale=lr_scale)


def test_ner_v2_feature_embeddings_learn_at_the_head_rate_the_encoder_at_the_base_rate(tiny_bert):
    nlp = make_ner_nlp(tiny_bert, features=SHAPE_FEATURES)
    ner = nlp.get_pipe("biobert_ner")
    ner.head_lr_scale = 20.0
    egs = ner_examples(nlp)
    nlp.initialize(lambda: egs)
    optimizer = RecordingOptimizer()
    for _ in range(2):  # the zero-initialised output layer sends the encoder no gradient in the first step
        nlp.update(egs, sgd=optimizer)
    head = {(node.id, name) for node in ner.model.walk() for name in node.param_names}
    features = {(node.id, name) for node in ner.model.get_ref("features").walk() for name in node.param_names}
    assert features and features <= head and (ner.model.get_ref("output_layer").id, "W") in head
    assert all(optimizer.scales[key] == 20.0 for key in head)
    encoder = set(optimizer.scales) - head  # the shared transformer's torch parameters
    assert encoder and all(optimizer.scales[key] == 1.0 for key in encoder)
