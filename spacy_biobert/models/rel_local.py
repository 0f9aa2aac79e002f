"""Local evidence for the relation model ``spacy_biobert.RelationModel.v2``.

v1 scores a pair of entities from document-level embeddings only (``[h; t; h * t]``). About 70 % of CDR's
relations are stated within one sentence, so v2 appends, per candidate pair:

* **context**: the mean of the embeddings (token means) of the sentences in which *both* entities have a
  mention -- zeros when they never share a sentence;
* **distance**: a one-hot bucket of the smallest sentence distance between a head mention and a tail mention:
  same sentence, at most 1, 2 or 4 sentences apart, or farther (:data:`DISTANCE_BUCKETS`).

:func:`local_arrays` computes the sentence bookkeeping in numpy, per document and in chunks of pairs, so a
document with hundreds of entities never holds a (pairs x sentences) array larger than one chunk's.
"""
from typing import List, Sequence, Tuple

import numpy
import torch

from .types import RelInstances

#: Upper bounds (in sentences) of the distance buckets; one more bucket holds everything farther.
DISTANCE_BUCKETS = (0, 1, 2, 4)
N_DISTANCE = len(DISTANCE_BUCKETS) + 1
#: Candidate pairs whose (pairs x sentences) membership arrays are built at once.
PAIR_CHUNK = 4096


def local_width(width: int) -> int:
    """Width the local features add to a pair of ``width``-dimensional entities."""
    return width + N_DISTANCE


def token_sentences(length: int, sentences: Sequence[Tuple[int, int]]) -> numpy.ndarray:
    """Sentence index of each of ``length`` tokens (all 0 without sentences)."""
    if not sentences or not length:
        return numpy.zeros(length, dtype="int64")
    starts = numpy.asarray([start for start, _ in sentences], dtype="int64")
    starts[0] = 0
    return numpy.searchsorted(starts, numpy.arange(length), side="right") - 1


def _membership(inst: RelInstances, tok_sent: numpy.ndarray, n_sent: int) -> numpy.ndarray:
    """``(entities, sentences)`` bools: whether an entity has a mention (starting) in a sentence."""
    member = numpy.zeros((len(inst.groups), n_sent), dtype=bool)
    for e, mentions in enumerate(inst.groups):
        member[e, [tok_sent[inst.spans[m][0]] for m in mentions]] = True
    return member


def _dilated(member: numpy.ndarray, k: int) -> numpy.ndarray:
    """``member`` widened by ``k`` sentences on each side."""
    if k == 0:
        return member
    cumsum = numpy.pad(member.cumsum(axis=1), ((0, 0), (1, 0)))
    n = member.shape[1]
    hi = numpy.minimum(numpy.arange(n) + k + 1, n)
    lo = numpy.maximum(numpy.arange(n) - k, 0)
    return (cumsum[:, hi] - cumsum[:, lo]) > 0


def _pair_evidence(member: numpy.ndarray, pairs: numpy.ndarray) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Shared sentences ``(pair, sentence)`` and distance one-hots of ``pairs`` (local indices)."""
    dilated = [_dilated(member, k) for k in DISTANCE_BUCKETS]
    pair_rows, sent_rows, onehots = [], [], []
    for start in range(0, len(pairs), PAIR_CHUNK):
        heads, tails = pairs[start:start + PAIR_CHUNK, 0], pairs[start:start + PAIR_CHUNK, 1]
        head_rows = member[heads]
        rows, cols = numpy.nonzero(head_rows & member[tails])
        pair_rows.append(rows + start)
        sent_rows.append(cols)
        near = numpy.stack([(head_rows & d[tails]).any(axis=1) for d in dilated] + [numpy.ones(len(heads), bool)], 1)
        onehot = numpy.zeros((len(heads), N_DISTANCE), dtype="float32")
        onehot[numpy.arange(len(heads)), near.argmax(axis=1)] = 1.0
        onehots.append(onehot)
    empty = numpy.zeros(0, dtype="int64")
    return (numpy.concatenate([empty] + pair_rows), numpy.concatenate([empty] + sent_rows),
            numpy.concatenate([numpy.zeros((0, N_DISTANCE), "float32")] + onehots))


def local_arrays(lengths: List[int], instances: List[RelInstances]) -> Tuple[numpy.ndarray, ...]:
    """The batch's local-evidence index arrays over the concatenated tokens and pairs.

    Returns:
        ``tok_sent`` (batch sentence index of every token), ``pair_idx`` and ``sent_idx`` (one entry per
        (candidate pair, shared sentence), sorted by pair), ``distance`` (``(pairs, N_DISTANCE)`` one-hots)
        and ``n_sent``.
    """
    tok_sents, pair_idx, sent_idx, distances = [], [], [], []
    sent_off = pair_off = 0
    for length, inst in zip(lengths, instances):
        tok_sent = token_sentences(length, inst.sentences)
        n_sent = int(tok_sent.max()) + 1 if length else 0
        pairs = numpy.asarray(inst.pairs, dtype="int64").reshape(-1, 2)
        rows, cols, onehot = _pair_evidence(_membership(inst, tok_sent, max(n_sent, 1)), pairs)
        tok_sents.append(tok_sent + sent_off)
        pair_idx.append(rows + pair_off)
        sent_idx.append(cols + sent_off)
        distances.append(onehot)
        sent_off, pair_off = sent_off + n_sent, pair_off + len(pairs)
    empty = numpy.zeros(0, dtype="int64")
    return (numpy.concatenate([empty] + tok_sents), numpy.concatenate([empty] + pair_idx),
            numpy.concatenate([empty] + sent_idx),
            numpy.concatenate([numpy.zeros((0, N_DISTANCE), "float32")] + distances), sent_off)


def segment_mean(rows: torch.Tensor, seg: torch.Tensor, n: int, width: int) -> torch.Tensor:
    """Mean of the ``rows`` of each of ``n`` segments (zeros for an empty one)."""
    sums = rows.new_zeros(n, width).index_add(0, seg, rows)
    counts = rows.new_zeros(n).index_add(0, seg, torch.ones_like(seg, dtype=rows.dtype))
    return sums / counts.clamp(min=1.0).unsqueeze(1)


def local_features(tokvecs: torch.Tensor, tok_sent: torch.Tensor, pair_idx: torch.Tensor, sent_idx: torch.Tensor,
                   distance: torch.Tensor, n_sent: int, n_pairs: int) -> torch.Tensor:
    """``[context; distance]`` of ``n_pairs`` pairs: the mean embedding of their shared sentences, and the
    distance one-hot."""
    width = tokvecs.shape[1]
    sentences = segment_mean(tokvecs, tok_sent, n_sent, width)
    context = segment_mean(sentences[sent_idx], pair_idx, n_pairs, width)
    return torch.cat([context, distance.to(tokvecs.dtype)], dim=1)
