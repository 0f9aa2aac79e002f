"""Names of spacy-biobert's custom ``Doc`` attributes and span groups, and their installation.

Every attribute stores only msgpack-safe values (strings, ints, floats and tuples of them) in
``doc.user_data``, so ``DocBin``, ``Doc.to_bytes``, ``doc.copy()`` and ``nlp.pipe(n_process=2)`` keep them.
"""
from typing import Any, Callable, Optional

from spacy.tokens import Doc

#: Mention-level relations: ``doc._.biobert_relations`` -> tuple of :class:`spacy_biobert.relations.Relation`.
RELATIONS_ATTR = "biobert_relations"
#: Concept-level relations: ``doc._.biobert_concept_relations`` -> ``{(head_id, tail_id, label): score}``.
CONCEPT_RELATIONS_ATTR = "biobert_concept_relations"
#: Source document id (e.g. the PMID), set by the corpus converters.
DOC_ID_ATTR = "biobert_doc_id"

#: Span group holding every gold mention of a converted corpus, overlapping ones included.
MENTIONS_KEY = "biobert_mentions"
#: Default span group for the NER head's predictions, scores in ``.attrs["scores"]``.
NER_SPANS_KEY = "biobert_ner"

#: Keys of the raw, msgpack-safe records in ``doc.user_data``.
RELATIONS_DATA_KEY = "spacy_biobert.relations"
CONCEPT_RELATIONS_DATA_KEY = "spacy_biobert.concept_relations"


class ExtensionConflictError(ValueError):
    """Raised when another package already registered one of our attribute names."""


def _ours(extension: tuple) -> bool:
    default, method, getter, setter = extension
    funcs = [f for f in (getter, setter, method) if f is not None]
    return bool(funcs) and all(getattr(f, "__module__", "").startswith("spacy_biobert") for f in funcs)


def _install(
    name: str,
    *,
    getter: Optional[Callable] = None,
    setter: Optional[Callable] = None,
    default: Any = None,
) -> None:
    if Doc.has_extension(name):
        existing = Doc.get_extension(name)
        if getter is None and existing[0] is default and existing[2] is None:
            return
        if getter is not None and _ours(existing):
            return
        raise ExtensionConflictError(
            f"Doc._.{name} is already registered by another package; spacy-biobert will not overwrite it."
        )
    if getter is not None:
        Doc.set_extension(name, getter=getter, setter=setter)
    else:
        Doc.set_extension(name, default=default)


def install_extensions() -> None:
    """Register spacy-biobert's ``Doc`` attributes. Safe to call any number of times.

    Raises:
        ExtensionConflictError: if an attribute name is taken by someone else.
    """
    from . import relations

    _install(RELATIONS_ATTR, getter=relations.get_relations, setter=relations.set_relations)
    _install(
        CONCEPT_RELATIONS_ATTR,
        getter=relations.get_concept_relations,
        setter=relations.set_concept_relations,
    )
    _install(DOC_ID_ATTR, default=None)

