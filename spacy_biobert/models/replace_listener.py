"""Giving a component its own copy of the encoder in place of its ``TransformerListener`` (spaCy's
``replace_listeners``).

``Language.replace_listeners`` -- also run for a sourced component with ``replace_listeners = ["model.tok2vec"]`` in
a config -- replaces each listener of a component with a copy of the transformer model it listens to (the model's
``copy()``), through two callbacks in the transformer model's ``attrs``: ``replace_listener`` (the layer that takes
the listener's place, built from that copy) and ``replace_listener_cfg`` (the component's new ``tok2vec`` config).
spacy-transformers' config callback names ``spacy-transformers.Tok2VecTransformer.v3``, which takes none of
``spacy_biobert.TransformerModel.v2``'s settings: the pipeline saved afterwards would not load ("Config error for
'spacy-transformers.Tok2VecTransformer.v3' ... unexpected argument: 'sort_windows'"). :func:`listener_replacement`
gives callbacks that name ``spacy_biobert.Tok2VecTransformer.v2`` instead -- the architecture that builds exactly
the replaced layer's structure, so the saved pipeline loads.
"""
from typing import Any, Callable, Dict

from spacy_transformers.layers import split_trf_batch
from thinc.api import Model, chain

#: The architecture of a component's own encoder (registered in :mod:`spacy_biobert.models.encoder`).
OWN_ENCODER_ARCHITECTURE = "spacy_biobert.Tok2VecTransformer.v2"
#: The listener settings the own encoder's config takes over.
LISTENER_SETTINGS = ("pooling", "grad_factor")

Config = Dict[str, Any]


def listener_replacement() -> Dict[str, Callable]:
    """The ``attrs`` of a transformer model (``spacy_biobert.TransformerModel.v2``) that make spaCy's
    ``replace_listeners`` give a listening component its own copy of it."""
    return {"replace_listener": _own_encoder_layer, "replace_listener_cfg": _own_encoder_config}


def _own_encoder_layer(copied: Model) -> Model:
    """The layer in a listener's place: ``copied``, the transformer model's copy (settings and weights), then the
    per-doc split."""
    return chain(copied, split_trf_batch())


def _own_encoder_config(transformer_cfg: Config, listener_cfg: Config) -> Config:
    """The component's new ``tok2vec`` config: the transformer's settings and the listener's pooling and gradient
    factor, under :data:`OWN_ENCODER_ARCHITECTURE` (unchanged for anything but a listener)."""
    result = transformer_cfg.copy()
    if "TransformerListener" not in listener_cfg.get("@architectures", ""):
        return result
    result["@architectures"] = OWN_ENCODER_ARCHITECTURE
    result.update({key: listener_cfg[key] for key in LISTENER_SETTINGS if key in listener_cfg})
    return result
