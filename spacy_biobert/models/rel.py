"""The relation-scoring architecture ``spacy_biobert.RelationModel.v2``: ATLOP-style document-level pair
features (no entity markers) plus, with ``local_evidence`` (the default), the shared-sentence context and
sentence distance of each pair (:mod:`spacy_biobert.models.rel_local`).

For every candidate pair of a batch of documents the model computes one logit per relation label:

1. token vectors come from ``tok2vec`` -- in the configs a spacy-transformers ``TransformerListener``,
   so they come from the shared transformer, which covers the whole document with strided windows
   (context beyond one 512-wordpiece window);
2. **mention** embedding = mean of the vectors of the mention's tokens;
3. **entity** embedding = ``logsumexp`` (or ``mean``) over the embeddings of the entity's mentions -- an
   entity is a concept (all mentions sharing a concept id) or a single mention;
4. **pair** representation ``[h; t; h * t]`` -> ``Relu`` MLP -> ``n_labels`` logits (sigmoid per label
   in the pipe: multi-label).

Steps 2-4 up to the MLP run in a parameter-free torch module inside thinc's ``PyTorchWrapper_v2``; the
MLP is made of thinc layers (so that the number of labels can stay unknown until initialization).
Gradients flow back through the module into ``tok2vec`` and from there into the transformer.
"""
from typing import Callable, List, Optional, Tuple

import numpy
import torch
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import ArgsKwargs, Dropout, Linear, Model, PyTorchWrapper_v2, Relu, chain, torch2xp, xp2torch
from thinc.types import Floats2d

from .rel_local import N_DISTANCE, local_arrays, local_features, local_width, segment_mean
from .types import RelInput, RelInstances, RelModel, Tok2VecModel

POOLINGS = ("logsumexp", "mean")
#: Candidate pairs scored at once at inference (their features take PREDICT_CHUNK x 3 x width floats).
PREDICT_CHUNK = 4096


class PairFeatures(torch.nn.Module):
    """Mention -> entity -> pair features (plus, with ``local``, the local evidence of
    :mod:`spacy_biobert.models.rel_local`); no parameters."""

    def __init__(self, pooling: str, local: bool = False):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.pooling = pooling
        self.local = local

    def forward(self, tokvecs, tok_idx, tok_seg, men_idx, men_seg, heads, tails, n_men: int, n_ent: int, *local):
        entities = self.entities(tokvecs, tok_idx, tok_seg, men_idx, men_seg, n_men, n_ent)
        pairs = self.pairs(entities, heads, tails)
        if not self.local:
            return pairs
        return torch.cat([pairs, local_features(tokvecs, *local, len(heads))], dim=1)

    def entities(self, tokvecs, tok_idx, tok_seg, men_idx, men_seg, n_men: int, n_ent: int):
        """Entity embeddings: token vectors -> mention means -> pooled over each entity's mentions."""
        width = tokvecs.shape[1]
        mentions = segment_mean(tokvecs[tok_idx], tok_seg, n_men, width)
        members = mentions[men_idx]
        if self.pooling == "mean":
            return segment_mean(members, men_seg, n_ent, width)
        return _segment_logsumexp(members, men_seg, n_ent, width)

    @staticmethod
    def pairs(entities, heads, tails):
        """Pair features ``[h; t; h * t]`` of the given (head, tail) entity rows."""
        head, tail = entities[heads], entities[tails]
        return torch.cat([head, tail, head * tail], dim=1)


def _segment_logsumexp(rows, seg, n: int, width: int):
    # The (detached) maximum only stabilises exp(); the result and its gradient are exact.
    index = seg.unsqueeze(1).expand(-1, width)
    peak = rows.new_full((n, width), -1e30).scatter_reduce(0, index, rows.detach(), "amax")
    sums = rows.new_zeros(n, width).index_add(0, seg, torch.exp(rows - peak[seg]))
    return torch.log(sums) + peak


def _index_arrays(lengths: List[int], instances: List[RelInstances]) -> Tuple[numpy.ndarray, ...]:
    """Flatten a batch's instances into index arrays over the concatenated token / mention tables."""
    tok_idx, tok_seg, men_idx, men_seg, heads, tails = ([] for _ in range(6))
    tok_off = men_off = ent_off = 0
    for length, inst in zip(lengths, instances):
        for i, (start, end) in enumerate(inst.spans):
            tok_idx.append(numpy.arange(tok_off + start, tok_off + end))
            tok_seg.append(numpy.full(end - start, men_off + i))
        for e, members in enumerate(inst.groups):
            men_idx.append(men_off + numpy.asarray(members, dtype="int64"))
            men_seg.append(numpy.full(len(members), ent_off + e))
        pairs = numpy.asarray(inst.pairs, dtype="int64").reshape(-1, 2)
        heads.append(ent_off + pairs[:, 0])
        tails.append(ent_off + pairs[:, 1])
        tok_off, men_off, ent_off = tok_off + length, men_off + len(inst.spans), ent_off + len(inst.groups)
    arrays = tuple(
        numpy.concatenate([numpy.zeros(0, dtype="int64")] + parts).astype("int64")
        for parts in (tok_idx, tok_seg, men_idx, men_seg, heads, tails)
    )
    return arrays + (men_off, ent_off)


def _input_converter(local: bool) -> Callable:
    """The ``convert_inputs`` of the pair-feature layer: (token vectors, instances) -> its torch arguments (with
    ``local``, the local-evidence arrays too)."""
    def convert_inputs(model: Model, X: Tuple[List[Floats2d], List[RelInstances]], is_train: bool):
        return _convert_inputs(model, X, is_train, local)

    return convert_inputs


def _convert_inputs(model: Model, X: Tuple[List[Floats2d], List[RelInstances]], is_train: bool, local: bool):
    tokvecs, instances = X
    lengths = [len(t) for t in tokvecs]
    flat = model.ops.xp.concatenate([t for t in tokvecs if len(t)], axis=0)
    *indices, n_men, n_ent = _index_arrays(lengths, instances)
    flat_t = xp2torch(flat, requires_grad=is_train)
    args = [flat_t] + [torch.from_numpy(a).to(flat_t.device) for a in indices] + [n_men, n_ent]
    if local:
        *local_indices, n_sent = local_arrays(lengths, instances)
        args += [torch.from_numpy(a).to(flat_t.device) for a in local_indices] + [n_sent]

    def backprop(d_inputs: ArgsKwargs) -> List[Floats2d]:
        d_flat = torch2xp(d_inputs.args[0])
        offsets = numpy.cumsum([0] + lengths)
        return [
            d_flat[offsets[i]:offsets[i + 1]] if lengths[i] else model.ops.alloc2f(*tokvecs[i].shape)
            for i in range(len(tokvecs))
        ]

    return ArgsKwargs(args=tuple(args), kwargs={}), backprop


def _tok2vec_width(tok2vec: Tok2VecModel, docs: Optional[List[Doc]]) -> int:
    for node in tok2vec.walk():
        if node.name == "transformer-listener" and node.has_dim("nO"):
            return node.get_dim("nO")
    if docs:
        widths = [vecs.shape[1] for vecs in tok2vec.predict(docs) if vecs.size]
        if widths:
            return widths[0]
    if tok2vec.has_dim("nO"):
        return tok2vec.get_dim("nO")
    raise ValueError("Cannot infer the token-vector width; initialize the upstream transformer first.")


@registry.architectures("spacy_biobert.RelationModel.v2")
def build_relation_model(
    tok2vec: Tok2VecModel,
    pooling: str = "logsumexp",
    hidden_width: int = 256,
    dropout: float = 0.1,
    local_evidence: bool = True,
    nO: Optional[int] = None,
) -> RelModel:
    """Build the relation model.

    Args:
        tok2vec: token vectors, one row per token (usually a ``TransformerListener``).
        pooling: how an entity's mention embeddings are combined: ``"logsumexp"`` or ``"mean"``.
        hidden_width: width of the MLP's hidden layer.
        dropout: dropout after the hidden layer.
        local_evidence: add the local evidence of :mod:`spacy_biobert.models.rel_local` to each pair's features:
            the mean embedding of the sentences the two entities share, and their sentence distance. Needs
            sentence boundaries (a ``sentencizer`` before the relation head); without them a document is one
            sentence. ``false``: the document-level pair features alone.
        nO: number of relation labels; normally set by the pipe at initialization.
    Returns:
        ``Model[(docs, instances), Floats2d]``: one row of label logits per candidate pair, in order.
    """
    return _relation_model(tok2vec, pooling, hidden_width, dropout, nO, local=local_evidence)


def _relation_model(tok2vec: Tok2VecModel, pooling: str, hidden_width: int, dropout: float, nO: Optional[int],
                    local: bool) -> RelModel:
    features = PyTorchWrapper_v2(PairFeatures(pooling, local), convert_inputs=_input_converter(local))
    # inference splits the hidden layer's weights by input block (see predict_in_chunks); the hidden layer and its
    # dropout are chained as thinc's Relu(dropout=...) chains them
    hidden, output_layer = Relu(nO=hidden_width), Linear(nO=nO)
    mlp = chain(chain(hidden, Dropout(dropout)) if dropout is not None else hidden, output_layer)
    return Model(
        "biobert_relation",
        _forward,
        init=_init,
        layers=[tok2vec, features, mlp],
        dims={"nO": nO},
        attrs={"pooling": pooling, "local": local},
        refs={"tok2vec": tok2vec, "hidden": hidden, "output_layer": output_layer},
    )


def _init(model: RelModel, X: Optional[RelInput] = None, Y=None) -> None:
    tok2vec, _, mlp = model.layers
    docs = list(X[0]) if X is not None else None
    tok2vec.initialize(X=docs)
    width = _tok2vec_width(tok2vec, docs)
    if model.get_dim("nO") is None:
        raise ValueError("Set the number of relation labels (dim nO) before initializing the model.")
    n_labels = model.get_dim("nO")
    n_in = 3 * width + (local_width(width) if model.attrs["local"] else 0)
    mlp.initialize(X=model.ops.alloc2f(2, n_in), Y=model.ops.alloc2f(2, n_labels))


def _forward(model: RelModel, X: RelInput, is_train: bool) -> Tuple[Floats2d, Callable]:
    docs, instances = X
    tok2vec, features, mlp = model.layers
    tokvecs, bp_tokvecs = tok2vec(docs, is_train)
    if not sum(len(inst.pairs) for inst in instances):
        # Still backpropagate (zeros): a listener expects its callback to be called after each update.
        def backprop_empty(d_scores: Floats2d):
            return bp_tokvecs([model.ops.alloc2f(*vecs.shape) for vecs in tokvecs])

        return model.ops.alloc2f(0, model.get_dim("nO")), backprop_empty
    if not is_train:
        return predict_in_chunks(model, tokvecs, instances), lambda d_scores: None
    pairs, bp_pairs = features((tokvecs, instances), is_train)
    scores, bp_scores = mlp(pairs, is_train)

    def backprop(d_scores: Floats2d):
        return bp_tokvecs(bp_pairs(bp_scores(d_scores)))

    return scores, backprop


def predict_in_chunks(model: RelModel, tokvecs: List[Floats2d], instances: List[RelInstances]) -> Floats2d:
    """The relation model's inference on ``tokvecs``: entity embeddings once, then ``PREDICT_CHUNK`` pairs at a
    time, so memory grows with the number of entities, not with the number of pairs times the feature width.

    The first MLP layer is split: ``W [h; t; h*t] = W_h h + W_t t + W_ht (h*t)``, and ``W_h h``, ``W_t t`` are
    computed once per entity, so a pair costs a third of the first layer's multiplications. With local evidence
    (v2) the sentence embeddings are computed once and each chunk adds ``W_c context + W_d distance``.
    """
    _, features, _ = model.layers
    module = PairFeatures(model.attrs["pooling"], model.attrs["local"])  # no parameters: the layer's own equivalent
    args = _convert_inputs(features, (tokvecs, instances), False, model.attrs["local"])[0].args
    flat, tok_idx, tok_seg, men_idx, men_seg, heads, tails, n_men, n_ent, *local = args
    hidden, output_layer = model.get_ref("hidden"), model.get_ref("output_layer")
    W, b = (xp2torch(hidden.get_param(name)).to(flat.dtype) for name in ("W", "b"))
    scores = []
    with torch.no_grad():
        entities = module.entities(flat, tok_idx, tok_seg, men_idx, men_seg, n_men, n_ent)
        width = entities.shape[1]
        as_head, as_tail = entities @ W[:, :width].T, entities @ W[:, width:2 * width].T
        local_part = _local_chunks(flat, local, W[:, 3 * width:], len(heads)) if local else None
        for start in range(0, len(heads), PREDICT_CHUNK):
            h, t = heads[start:start + PREDICT_CHUNK], tails[start:start + PREDICT_CHUNK]
            pre = as_head[h] + as_tail[t] + (entities[h] * entities[t]) @ W[:, 2 * width:3 * width].T + b
            if local_part is not None:
                pre = pre + local_part(start, len(h))
            scores.append(output_layer.predict(torch2xp(torch.relu(pre))))
    return model.ops.xp.concatenate(scores, axis=0)


def _local_chunks(flat, local, W_local, n_pairs: int) -> Callable[[int, int], "torch.Tensor"]:
    """``f(start, n)``: the first layer's local-evidence term of pairs ``start .. start + n`` (sentence
    embeddings computed once)."""
    tok_sent, pair_idx, sent_idx, distance, n_sent = local
    width = flat.shape[1]
    sentences = segment_mean(flat, tok_sent, n_sent, width)
    W_context, W_distance = W_local[:, :width], W_local[:, width:width + N_DISTANCE]

    def term(start: int, n: int):
        lo, hi = (int(x) for x in torch.searchsorted(pair_idx, pair_idx.new_tensor([start, start + n])))
        context = segment_mean(sentences[sent_idx[lo:hi]], pair_idx[lo:hi] - start, n, width)
        return context @ W_context.T + distance[start:start + n].to(flat.dtype) @ W_distance.T

    return term
