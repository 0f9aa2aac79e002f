"""BILUO tags, transition constraints, constrained Viterbi decoding and entity confidences."""
import itertools

import numpy
import pytest

from spacy_biobert.pipeline.biluo import biluo_constraints, biluo_tags, decode_entities, viterbi_decode


def is_valid_biluo(tags):
    state = None  # label of the open entity
    for tag in tags:
        prefix, _, label = tag.partition("-")
        if state is None and prefix in ("I", "L") or state is not None and (prefix in "OBU" or label != state):
            return False
        state = label if prefix in ("B", "I") else None
    return state is None


def brute_force(log_probs, tags):
    sequences = itertools.product(range(len(tags)), repeat=len(log_probs))
    valid = [s for s in sequences if is_valid_biluo([tags[i] for i in s])]
    return max(valid, key=lambda s: log_probs[numpy.arange(len(s)), list(s)].sum())


@pytest.mark.parametrize("seed", range(200))
def test_viterbi_yields_only_valid_biluo_and_is_optimal(seed):
    rng = numpy.random.default_rng(seed)
    labels = ["A", "B", "C"][: 1 + seed % 3]
    tags = biluo_tags(labels)
    n_tokens = int(rng.integers(1, 40))
    log_probs = rng.normal(scale=5.0, size=(n_tokens, len(tags)))
    path = viterbi_decode(log_probs, *biluo_constraints(len(labels)))
    assert is_valid_biluo([tags[i] for i in path])
    if seed % 10 == 0:  # small cases: compare with exhaustive search
        small = log_probs[:4, : 1 + 4 * min(len(labels), 1)]
        best = viterbi_decode(small, *biluo_constraints(min(len(labels), 1)))
        assert tuple(best) == brute_force(small, biluo_tags(labels[:1]))


def test_decoded_confidence_is_geometric_mean():
    probs = numpy.full((3, 5), 0.01)
    probs[0, 1], probs[1, 2], probs[2, 3] = 0.9, 0.4, 0.8  # B I L
    [(start, end, label, confidence)] = decode_entities(probs, biluo_constraints(1))
    assert (start, end, label) == (0, 3, 0)
    assert confidence == pytest.approx((0.9 * 0.4 * 0.8) ** (1 / 3))
