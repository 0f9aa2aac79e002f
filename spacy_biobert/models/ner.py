"""Thinc architectures of the ``biobert_ner`` head: token vectors -> linear layer -> BILUO tag scores.

``spacy_biobert.NERTagger.v1`` takes any token-vector layer (in configs, a spacy-transformers
``TransformerListener`` that pools wordpieces per token) and adds one linear layer whose outputs are
unnormalised scores over the BILUO tags of the component's labels; the component normalises them.
``spacy_biobert.Tok2VecTransformer.v1`` is an inline transformer tok2vec accepting our encoder names
(``pkg:...``), for a pipeline without a shared ``transformer`` component.
"""
from typing import Callable, List, Optional

from spacy.tokens import Doc
from spacy.util import registry
from spacy_transformers.layers import split_trf_batch, trfs2arrays
from thinc.api import Linear, Model, chain, with_array, zero_init
from thinc.types import Floats2d, Ragged

from ..encoder import create_transformer_model

#: Token vectors for a batch of docs: one (n_tokens, width) array per doc.
Tok2VecModel = Model[List[Doc], List[Floats2d]]
#: Tag scores for a batch of docs: one (n_tokens, n_tags) array per doc.
TaggerModel = Model[List[Doc], List[Floats2d]]
#: Pools the wordpiece vectors of each token into one vector.
PoolingModel = Model[Ragged, Floats2d]


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


@registry.architectures("spacy_biobert.Tok2VecTransformer.v1")
def build_tok2vec_transformer(
    name: str,
    get_spans: Callable,
    pooling: PoolingModel,
    grad_factor: float = 1.0,
    tokenizer_config: dict = {},
    transformer_config: dict = {},
) -> Tok2VecModel:
    """A transformer used directly as a tok2vec layer (like ``spacy-transformers.Tok2VecTransformer.v3``).

    Args:
        name: encoder name as in :func:`spacy_biobert.encoder.resolve_encoder_name`; resolved and loaded
            only at initialization.
        get_spans: span getter splitting long docs into windows, e.g. ``strided_spans.v1``.
        pooling: reduction of wordpiece vectors to token vectors, e.g. ``reduce_mean.v1``.
        grad_factor: gradient weight passed back into the transformer.
        tokenizer_config: settings for the Hugging Face tokenizer.
        transformer_config: settings for the Hugging Face model's forward pass.
    Returns:
        A model mapping docs to one ``(n_tokens, width)`` array per doc.
    """
    transformer = create_transformer_model(name, get_spans, tokenizer_config, transformer_config)
    # chain of chain on purpose: the shape spacy-transformers' replace_listener produces
    return chain(chain(transformer, split_trf_batch()), trfs2arrays(pooling, grad_factor))
