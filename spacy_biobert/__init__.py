"""spacy-biobert: BioBERT NER and relation-extraction heads for spaCy v3 pipelines."""
from .extensions import install_extensions

install_extensions()

from . import encoder, tokenizer  # noqa: E402,F401  (registers architectures and tokenizers)
from .pipeline import ner as _ner  # noqa: E402,F401
from .pipeline import rel as _rel  # noqa: E402,F401
from .relations import (  # noqa: E402
    Relation,
    add_relation,
    concept_ids,
    get_concept_relations,
    get_relations,
    set_concept_relations,
    set_relations,
)

__version__ = "0.1.0"
__all__ = [
    "Relation",
    "add_relation",
    "concept_ids",
    "get_concept_relations",
    "get_relations",
    "set_concept_relations",
    "set_relations",
]
