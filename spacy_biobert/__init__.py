"""spacy-biobert: BioBERT NER and relation-extraction heads for spaCy v3 pipelines.

Factories, architectures, scorers, readers and the ``spacy biobert`` commands are registered through
entry points (see ``setup.cfg``); importing the package installs its ``Doc`` attributes.
"""
from .concepts import concept_ids
from .corpus.builder import install_corpus_extensions
from .kb.link_candidates import install_candidate_extension
from .relations import (
    Relation,
    add_relation,
    get_concept_relations,
    get_relations,
    install_relation_extensions,
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
    "install_extensions",
    "set_concept_relations",
    "set_relations",
]


def install_extensions() -> None:
    """Register every ``Doc`` attribute of spacy-biobert. Idempotent; runs on import.

    Raises:
        spacy_biobert.extensions.ExtensionConflictError: if another package owns one of the names.
    """
    install_relation_extensions()
    install_corpus_extensions()
    install_candidate_extension()


install_extensions()
