"""BILUO tags and their constrained Viterbi decoding, for token-classification NER.

Tags are ``O`` then ``B-``, ``I-``, ``L-``, ``U-`` of each label, in label order. Decoding searches the best
tag sequence among the *valid* ones only (allowed transitions, start and end), so an ill-formed entity
can never come out.
"""
from typing import Iterable, List, Tuple

import numpy

#: (start token, end token, label index, confidence)
Prediction = Tuple[int, int, int, float]

LOG_FLOOR = 1e-30
_BILU = "BILU"


def biluo_tags(labels: Iterable[str]) -> List[str]:
    """The tag set for ``labels``: ``O`` then ``B-``, ``I-``, ``L-``, ``U-`` of each label, in order."""
    return ["O"] + [f"{prefix}-{label}" for label in labels for prefix in _BILU]


def biluo_constraints(n_labels: int) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Which tag may follow which, and which may start or end a document, in :func:`biluo_tags` order.

    Returns:
        ``(allowed, start, end)``: a boolean ``(K, K)`` matrix, ``allowed[prev, next]``, and two boolean
        ``(K,)`` vectors.
    """
    n_tags = 1 + 4 * n_labels
    outside = numpy.zeros(n_tags, dtype=bool)  # tags allowed after O, L-x or U-x (and at the start)
    outside[0] = True
    outside[1::4] = outside[4::4] = True  # B-*, U-*
    allowed = numpy.zeros((n_tags, n_tags), dtype=bool)
    for prev in range(n_tags):
        kind = (prev - 1) % 4 if prev else None
        if prev == 0 or kind in (2, 3):  # O, L-x, U-x
            allowed[prev] = outside
        else:  # B-x, I-x continue with I-x or L-x of the same label
            first = prev - kind
            allowed[prev, first + 1] = allowed[prev, first + 2] = True
    end = outside.copy()
    end[1::4] = False
    end[3::4] = True  # O, L-*, U-*
    return allowed, outside.copy(), end


def viterbi_decode(
    log_probs: numpy.ndarray, allowed: numpy.ndarray, start: numpy.ndarray, end: numpy.ndarray
) -> numpy.ndarray:
    """The highest-scoring tag sequence that respects the transition, start and end constraints.

    Args:
        log_probs: ``(n_tokens, K)`` finite per-token tag log-probabilities.
        allowed, start, end: as returned by :func:`biluo_constraints`.
    Returns:
        ``(n_tokens,)`` tag indices.
    """
    n_tokens, n_tags = log_probs.shape
    if n_tokens == 0:
        return numpy.zeros(0, dtype=numpy.int64)
    transitions = numpy.where(allowed, 0.0, -numpy.inf)
    score = log_probs[0] + numpy.where(start, 0.0, -numpy.inf)
    backpointers = numpy.zeros((n_tokens, n_tags), dtype=numpy.int64)
    columns = numpy.arange(n_tags)
    for t in range(1, n_tokens):
        candidates = score[:, None] + transitions
        backpointers[t] = candidates.argmax(axis=0)
        score = candidates[backpointers[t], columns] + log_probs[t]
    path = numpy.zeros(n_tokens, dtype=numpy.int64)
    path[-1] = int((score + numpy.where(end, 0.0, -numpy.inf)).argmax())
    for t in range(n_tokens - 1, 0, -1):
        path[t - 1] = backpointers[t, path[t]]
    return path


def decode_entities(probs: numpy.ndarray, constraints: Tuple[numpy.ndarray, ...]) -> List[Prediction]:
    """Decode one doc's tag probabilities into entities with confidences.

    The confidence of an entity is the geometric mean of the probabilities of its tokens' chosen tags.

    Args:
        probs: ``(n_tokens, K)`` tag probabilities.
        constraints: ``(allowed, start, end)`` from :func:`biluo_constraints`.
    Returns:
        ``(start, end, label index, confidence)`` for every entity, in document order.
    """
    log_probs = numpy.log(numpy.maximum(probs, LOG_FLOOR))
    path = viterbi_decode(log_probs, *constraints)
    chosen = log_probs[numpy.arange(len(path)), path]
    found: List[Prediction] = []
    begin = 0
    for i, tag in enumerate(path.tolist()):
        kind = (tag - 1) % 4 if tag else None
        if kind == 0:
            begin = i
        elif kind in (2, 3):
            first = i if kind == 3 else begin
            confidence = float(numpy.exp(chosen[first : i + 1].mean()))
            found.append((first, i + 1, (tag - 1) // 4, confidence))
    return found
