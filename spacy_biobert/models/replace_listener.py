"""Giving a component its own copy of the encoder in place of its ``TransformerListener`` (spaCy's
``replace_listeners``).

``Language.replace_listeners`` -- also run for a sourced component with ``replace_listeners = ["model.tok2vec"]`` in
a config -- replaces each listener of a component with a copy of the transformer it listens to, through two
callbacks in the transformer model's ``attrs``: ``replace_listener`` (the layer that takes the listener's place)
and ``replace_listener_cfg`` (the component's new ``tok2vec`` config). spacy-transformers' own callbacks build a
stock ``TransformerModel`` and name ``spacy-transformers.Tok2VecTransformer.v3`` in the config, which takes none of
``spacy_biobert.TransformerModel.v2``'s settings: the pipeline saved afterwards does not load ("Config error for
'spacy-transformers.Tok2VecTransformer.v3' ... unexpected argument: 'sort_windows'"), and the copy would lose this
package's encoder call (encoder names, wordpiece-limited windows, sorted windows).
:func:`attach_listener_replacement` installs callbacks that build the same encoder again, with the listened-to
transformer's weights, and name ``spacy_biobert.Tok2VecTransformer.v2`` in the config -- the architecture that
builds exactly the replaced layer's structure, so the saved pipeline loads.
"""
from typing import Any, Callable, Dict

from spacy_transformers.layers import split_trf_batch
from thinc.api import Model, chain

#: The architecture of a component's own encoder (registered in :mod:`spacy_biobert.models.encoder`).
OWN_ENCODER_ARCHITECTURE = "spacy_biobert.Tok2VecTransformer.v2"
#: The listener settings the own encoder's config takes over.
LISTENER_SETTINGS = ("pooling", "grad_factor")

Config = Dict[str, Any]


def attach_listener_replacement(model: Model, build: Callable[[], Model]) -> None:
    """Make spaCy's ``replace_listeners`` give a listening component its own copy of the transformer ``model``.

    Args:
        model: a transformer model (``spacy_biobert.TransformerModel.v2``).
        build: returns a new, uninitialised transformer model with ``model``'s settings (the architecture of
            :data:`OWN_ENCODER_ARCHITECTURE` builds the same from the replacement config).
    """
    model.attrs["replace_listener"] = _own_encoder_layer(build)
    model.attrs["replace_listener_cfg"] = _own_encoder_config


def _own_encoder_layer(build: Callable[[], Model]) -> Callable[[Model, Model, Any], Model]:
    def replace_listener(copied: Model, listener: Model, transformer: Any) -> Model:
        """The layer in ``listener``'s place: a new encoder with the weights of ``transformer`` (the component
        listened to; spaCy's generic ``copied`` has lost this package's encoder call), then the per-doc split."""
        own = build()
        own.from_bytes(transformer.model.to_bytes())
        return chain(own, split_trf_batch())

    return replace_listener


def _own_encoder_config(transformer_cfg: Config, listener_cfg: Config) -> Config:
    """The component's new ``tok2vec`` config: the transformer's settings and the listener's pooling and gradient
    factor, under :data:`OWN_ENCODER_ARCHITECTURE` (unchanged for anything but a listener)."""
    result = transformer_cfg.copy()
    if "TransformerListener" not in listener_cfg.get("@architectures", ""):
        return result
    result["@architectures"] = OWN_ENCODER_ARCHITECTURE
    result.update({key: listener_cfg[key] for key in LISTENER_SETTINGS if key in listener_cfg})
    return result
