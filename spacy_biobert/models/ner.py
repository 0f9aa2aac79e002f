"""The thinc architecture of the ``biobert_ner`` head, ``spacy_biobert.NERTagger.v2``: token vectors -> linear
layer -> BILUO tag scores.

It takes any token-vector layer ``tok2vec`` (in configs, a spacy-transformers ``TransformerListener`` that pools
wordpieces per token) and adds one linear layer whose outputs are unnormalised scores over the BILUO tags of the
component's labels; the component normalises them. An optional second token-vector layer, ``features``, has its
vectors concatenated to the encoder's before the linear layer: typically spaCy's ``spacy.MultiHashEmbed.v2`` over
lexical attributes (``SHAPE``, ``PREFIX``, ``SUFFIX``, ``NORM``), which give an uncased encoder the case and shape
of a token back (configs/ner.cfg). A third, ``kb_match`` (``spacy_biobert.KBMatchFeatures.v1``), appends a
dictionary-match feature per token. With both ``null`` the head is the transformer's vectors only.
"""
from typing import Callable, List, Optional, Sequence, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Model, Ops, chain, with_array, zero_init
from thinc.types import Floats2d

from .types import TaggerModel, Tok2VecModel


@registry.architectures("spacy_biobert.NERTagger.v2")
def build_ner_tagger_v2(
    tok2vec: Tok2VecModel,
    features: Optional[Tok2VecModel] = None,
    kb_match: Optional[Tok2VecModel] = None,
    nO: Optional[int] = None,
) -> TaggerModel:
    """Token vectors (and lexical feature vectors, concatenated) -> linear layer -> BILUO tag scores (logits).

    Args:
        tok2vec: token-vector layer of the encoder, e.g. ``spacy-transformers.TransformerListener.v1``.
        features: a second token-vector layer whose vectors are appended to ``tok2vec``'s, e.g.
            ``spacy.MultiHashEmbed.v2`` with ``attrs = ["NORM","PREFIX","SUFFIX","SHAPE"]``; its parameters
            belong to the head (they learn at the component's ``head_lr_scale``). ``None``: ``tok2vec``'s only.
        kb_match: a dictionary-match feature layer (``spacy_biobert.KBMatchFeatures.v1``) whose vectors are
            appended after ``features``'; a head parameter too. ``None``: no dictionary feature.
        nO: number of tags (``1 + 4 * n_labels``); left ``None``, the component sets it at initialization.
    Returns:
        A model mapping docs to one ``(n_tokens, nO)`` score array per doc, with the references ``tok2vec`` (the
        encoder's layer, not the concatenation), ``output_layer`` and (when given) ``features`` and ``kb_match``.
    """
    extra = {name: layer for name, layer in (("features", features), ("kb_match", kb_match)) if layer is not None}
    vectors = concatenate_per_doc(tok2vec, *extra.values()) if extra else tok2vec
    output_layer = Linear(nO=nO, init_W=zero_init)
    model: TaggerModel = chain(vectors, with_array(output_layer))
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", output_layer)
    for name, layer in extra.items():
        model.set_ref(name, layer)
    return model


def concatenate_per_doc(*layers: Tok2VecModel) -> Tok2VecModel:
    """Run each layer on the docs and stack their vectors side by side, doc by doc.

    Unlike thinc's ``concatenate`` on list outputs, this accepts an empty doc in a batch whose vectors came
    back as a ``(0, 0)`` array (spacy-transformers' pooling does that), and a backward callback that returns
    ``None`` (a transformer listener that is not the last of its transformer's listeners). The gradient with
    respect to the docs is an empty list.
    """
    return Model("concatenate_per_doc", _concatenate_forward, init=_concatenate_init, layers=list(layers),
                 dims={"nO": None})


def _concatenate_init(model: Tok2VecModel, X: Optional[List[Doc]] = None, Y=None) -> None:
    """Initialize the layers; ``nO`` is the sum of theirs where all are known."""
    for layer in model.layers:
        layer.initialize(X=X)
    if all(layer.has_dim("nO") for layer in model.layers):
        model.set_dim("nO", sum(layer.get_dim("nO") for layer in model.layers))


def _concatenate_forward(
    model: Tok2VecModel, docs: List[Doc], is_train: bool
) -> Tuple[List[Floats2d], Callable[[List[Floats2d]], List]]:
    outputs, callbacks = zip(*(layer(docs, is_train) for layer in model.layers))
    widths = [_width(layer, vectors) for layer, vectors in zip(model.layers, outputs)]
    ops = model.ops
    stacked = [
        ops.xp.hstack([_with_width(ops, vectors[i], width) for vectors, width in zip(outputs, widths)])
        for i in range(len(docs))
    ]

    def backprop(d_stacked: List[Floats2d]) -> List:
        start = 0
        for callback, width in zip(callbacks, widths):
            callback([ops.as_contig(d[:, start:start + width]) for d in d_stacked])
            start += width
        return []

    return stacked, backprop


def _width(layer: Model, vectors: Sequence[Floats2d]) -> int:
    """The width of a layer's vectors: of a non-empty doc's, else the layer's ``nO`` (0 if unknown)."""
    for array in vectors:
        if array.shape[0]:
            return int(array.shape[1])
    return int(layer.get_dim("nO")) if layer.has_dim("nO") else 0


def _with_width(ops: Ops, array: Floats2d, width: int) -> Floats2d:
    """``array``, or zeros of its length and ``width`` where an empty doc's array came back narrower."""
    return array if array.shape[1] == width else ops.alloc2f(array.shape[0], width)
