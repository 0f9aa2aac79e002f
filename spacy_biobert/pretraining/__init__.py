"""Domain-adaptive pretraining: continued masked-LM training of a BERT-family encoder on in-domain text.

Library layer (imports only ``corpus`` and ``models``); the ``spacy biobert pretrain-mlm`` command wraps it.
"""
from .mlm import MLMConfig, PretrainResult, load_mlm_model, pretrain_mlm
from .texts import PretrainingInputError, chunk_texts, read_texts

__all__ = [
    "MLMConfig",
    "PretrainResult",
    "PretrainingInputError",
    "chunk_texts",
    "load_mlm_model",
    "pretrain_mlm",
    "read_texts",
]
