"""The relation model's pooling: mention mean, entity logsumexp/mean, [h; t; h*t] pairs, exact gradients."""
import numpy
import pytest
import torch

from spacy_biobert.models.rel import PairFeatures, _index_arrays
from spacy_biobert.models.types import RelInstances

# Two docs of 5 and 4 tokens; doc 0: mentions (0,2) (3,4) (4,5), entity 0 = mentions {0, 2}, entity 1 = {1}.
INSTANCES = [
    RelInstances(spans=[(0, 2), (3, 4), (4, 5)], groups=[[0, 2], [1]], pairs=[(0, 1), (1, 0)]),
    RelInstances(spans=[(1, 3), (3, 4)], groups=[[0], [1]], pairs=[(0, 1)]),
]


def features(pooling, tokvecs):
    *indices, n_men, n_ent = _index_arrays([5, 4], INSTANCES)
    return PairFeatures(pooling)(tokvecs, *(torch.from_numpy(a) for a in indices), n_men, n_ent)


@pytest.mark.parametrize("pooling", ["logsumexp", "mean"])
def test_pair_features_match_a_direct_computation(pooling):
    tokvecs = torch.randn(9, 3, dtype=torch.float64)
    out = features(pooling, tokvecs)
    doc0, doc1 = tokvecs[:5], tokvecs[5:]
    m0, m1, m2 = doc0[0:2].mean(0), doc0[3], doc0[4]
    pool = torch.logsumexp if pooling == "logsumexp" else torch.mean
    e0, e1 = pool(torch.stack([m0, m2]), 0), m1
    f0, f1 = doc1[1:3].mean(0), doc1[3]
    expected = torch.stack([torch.cat([h, t, h * t]) for h, t in ((e0, e1), (e1, e0), (f0, f1))])
    assert out.shape == (3, 9)
    assert torch.allclose(out, expected)


def test_logsumexp_is_stable_and_its_gradient_exact():
    tokvecs = torch.randn(9, 3, dtype=torch.float64) * 400  # exp() of these overflows without the max shift
    assert torch.isfinite(features("logsumexp", tokvecs)).all()
    small = torch.randn(9, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: features("logsumexp", x), (small,))


def test_index_arrays_offset_documents():
    tok_idx, tok_seg, men_idx, men_seg, heads, tails, n_men, n_ent = _index_arrays([5, 4], INSTANCES)
    assert (n_men, n_ent) == (5, 4)
    assert tok_idx.tolist() == [0, 1, 3, 4, 6, 7, 8]
    assert heads.tolist() == [0, 1, 2] and tails.tolist() == [1, 0, 3]
    assert numpy.array_equal(men_seg, [0, 0, 1, 2, 3])


def test_inference_in_chunks_equals_one_pass(monkeypatch):
    from thinc.api import Model, NumpyOps

    import spacy_biobert.models.rel as rel_module

    vectors = [numpy.random.RandomState(0).randn(n, 4).astype("f") for n in (5, 4)]
    tok2vec = Model("fixed", lambda model, docs, is_train: (vectors, lambda d: d), dims={"nO": 4})
    model = rel_module.build_relation_model(tok2vec, hidden_width=8, dropout=0.0, local_evidence=False, nO=2)
    model.initialize(X=([None, None], INSTANCES))
    one_pass = model.begin_update(([None, None], INSTANCES))[0]  # the training path: no chunks
    monkeypatch.setattr(rel_module, "PREDICT_CHUNK", 2)
    chunked = model.predict(([None, None], INSTANCES))
    assert chunked.shape == (3, 2) and isinstance(model.ops, NumpyOps)
    numpy.testing.assert_allclose(chunked, one_pass, rtol=1e-5, atol=1e-6)
