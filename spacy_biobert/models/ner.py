"""Thinc architectures of the ``biobert_ner`` head: token vectors -> linear layer -> BILUO tag scores.

``spacy_biobert.NERTagger.v1`` takes any token-vector layer (in configs, a spacy-transformers
``TransformerListener`` that pools wordpieces per token) and adds one linear layer whose outputs are
unnormalised scores over the BILUO tags of the component's labels; the component normalises them.
"""
from typing import Optional

from spacy.util import registry
from thinc.api import Linear, chain, with_array, zero_init

from .types import TaggerModel, Tok2VecModel


@registry.architectures("spacy_biobert.NERTagger.v1")
def build_ner_tagger(tok2vec: Tok2VecModel, nO: Optional[int] = None) -> TaggerModel:
    """Token vectors -> linear layer -> BILUO tag scores (logits).

    Args:
        tok2vec: token-vector layer, e.g. ``spacy-transformers.TransformerListener.v1``.
        nO: number of tags (``1 + 4 * n_labels``); left ``None``, the component sets it at initialization.
    Returns:
        A model mapping docs to one ``(n_tokens, nO)`` score array per doc. Its references ``tok2vec``
        and ``output_layer`` point at the two parts.
    """
    output_layer = Linear(nO=nO, init_W=zero_init)
    model: TaggerModel = chain(tok2vec, with_array(output_layer))
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", output_layer)
    return model

