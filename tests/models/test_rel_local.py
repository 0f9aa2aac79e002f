"""Local evidence of ``RelationModel.v2`` (``local_evidence``): shared-sentence context and sentence-distance
buckets."""
import numpy
import pytest
import torch
from thinc.api import Model

import spacy_biobert.models.rel as rel_module
import spacy_biobert.models.rel_local as local_module
from spacy_biobert.models.rel import PairFeatures, _index_arrays
from spacy_biobert.models.rel_local import N_DISTANCE, local_arrays
from spacy_biobert.models.types import RelInstances

# Doc 0: 12 tokens in 4 sentences [0,3) [3,6) [6,9) [9,12); mentions start in sentences 0, 0, 1, 3.
# Entity 0 = mentions {0, 3} (sentences 0 and 3), entity 1 = {1} (sentence 0), entity 2 = {2} (sentence 1).
# Doc 1: 4 tokens, no sentence boundaries (one sentence).
INSTANCES = [
    RelInstances(spans=[(0, 1), (2, 3), (4, 5), (10, 11)], groups=[[0, 3], [1], [2]],
                 pairs=[(0, 1), (1, 2), (2, 0), (1, 0)], sentences=[(0, 3), (3, 6), (6, 9), (9, 12)]),
    RelInstances(spans=[(0, 1), (3, 4)], groups=[[0], [1]], pairs=[(0, 1)]),
]
LENGTHS = [12, 4]


def onehot(bucket):
    return [1.0 if i == bucket else 0.0 for i in range(N_DISTANCE)]


def test_local_arrays_shared_sentences_and_distances():
    tok_sent, pair_idx, sent_idx, distance, n_sent = local_arrays(LENGTHS, INSTANCES)
    assert n_sent == 5
    assert tok_sent.tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3 + [4] * 4
    # pair 0 (e0, e1) share sentence 0; pair 1 (e1, e2) share none; pair 2 (e2, e0) none; pair 3 (e1, e0)
    # sentence 0; pair 4 (doc 1) its only sentence, 4 in the batch.
    assert list(zip(pair_idx.tolist(), sent_idx.tolist())) == [(0, 0), (3, 0), (4, 4)]
    # distances: same sentence -> bucket 0; e1 (s0) and e2 (s1) one apart -> bucket 1; e2 (s1) to e0 (s0, s3) -> 1
    assert distance.tolist() == [onehot(0), onehot(1), onehot(1), onehot(0), onehot(0)]


def test_distance_buckets_far_apart(monkeypatch):
    sentences = [(i, i + 1) for i in range(10)]
    inst = RelInstances(spans=[(0, 1), (3, 4), (5, 6), (9, 10)], groups=[[0], [1], [2], [3]],
                        pairs=[(0, 1), (0, 2), (0, 3)], sentences=sentences)
    monkeypatch.setattr(local_module, "PAIR_CHUNK", 2)  # chunks give the same result
    _, pair_idx, _, distance, _ = local_arrays([10], [inst])
    assert len(pair_idx) == 0
    assert distance.tolist() == [onehot(3), onehot(4), onehot(4)]  # 3 apart -> "<= 4"; 5 and 9 -> farther


def test_no_pairs_and_empty_doc():
    inst = RelInstances(spans=[], groups=[], pairs=[])
    tok_sent, pair_idx, sent_idx, distance, n_sent = local_arrays([0, 3], [inst, inst])
    assert tok_sent.tolist() == [0, 0, 0] and n_sent == 1
    assert len(pair_idx) == len(sent_idx) == 0 and distance.shape == (0, N_DISTANCE)


def features(tokvecs):
    *indices, n_men, n_ent = _index_arrays(LENGTHS, INSTANCES)
    *local, n_sent = local_arrays(LENGTHS, INSTANCES)
    args = [torch.from_numpy(a) for a in indices] + [n_men, n_ent] + [torch.from_numpy(a) for a in local] + [n_sent]
    return PairFeatures("mean", local=True)(tokvecs, *args)


def test_v2_features_append_shared_sentence_context():
    tokvecs = torch.randn(16, 3, dtype=torch.float64)
    out = features(tokvecs)
    width = 3
    assert out.shape == (5, 4 * width + N_DISTANCE)
    sentence0 = tokvecs[0:3].mean(0)
    numpy.testing.assert_allclose(out[0, 3 * width:4 * width], sentence0)
    numpy.testing.assert_allclose(out[1, 3 * width:4 * width], 0.0)  # no shared sentence
    numpy.testing.assert_allclose(out[4, 3 * width:4 * width], tokvecs[12:16].mean(0))
    numpy.testing.assert_allclose(out[:, 4 * width:], local_arrays(LENGTHS, INSTANCES)[3])


def test_v2_gradient_is_exact():
    small = torch.randn(16, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(features, (small,))


@pytest.mark.parametrize("chunk", [1, 2, 4096])
def test_local_evidence_inference_in_chunks_equals_one_pass(monkeypatch, chunk):
    vectors = [numpy.random.RandomState(n).randn(n, 4).astype("f") for n in LENGTHS]
    tok2vec = Model("fixed", lambda model, docs, is_train: (vectors, lambda d: d), dims={"nO": 4})
    model = rel_module.build_relation_model(tok2vec, hidden_width=8, dropout=0.0, nO=2)
    model.initialize(X=([None, None], INSTANCES))
    one_pass = model.begin_update(([None, None], INSTANCES))[0]
    monkeypatch.setattr(rel_module, "PREDICT_CHUNK", chunk)
    chunked = model.predict(([None, None], INSTANCES))
    assert chunked.shape == (5, 2)
    numpy.testing.assert_allclose(chunked, one_pass, rtol=1e-5, atol=1e-6)
