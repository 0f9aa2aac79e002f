"""The relation store: how relations live on a ``Doc``.

Two levels, both backed by plain tuples in ``doc.user_data`` (msgpack-safe):

* **mention level** -- ``doc._.biobert_relations`` is a tuple of :class:`Relation` (head span, tail span,
  label, score). Spans are addressed by their token offsets, so overlapping or nested spans are fine.
* **concept level** -- ``doc._.biobert_concept_relations`` is a dict ``{(head_id, tail_id, label): score}``
  for document-level tasks such as CDR's chemical-induced disease, where a relation holds between two
  concepts (``ent.kb_id_``) rather than two mentions.

Reading returns fresh objects: to change the store, assign (or use :func:`add_relation`).
"""
from typing import Dict, Iterable, Mapping, NamedTuple, Tuple, Union

from spacy.tokens import Doc, Span

from .extensions import install_extension

#: Mention-level relations: ``doc._.biobert_relations`` -> tuple of :class:`Relation`.
RELATIONS_ATTR = "biobert_relations"
#: Concept-level relations: ``doc._.biobert_concept_relations`` -> ``{(head_id, tail_id, label): score}``.
CONCEPT_RELATIONS_ATTR = "biobert_concept_relations"
#: Keys of the raw, msgpack-safe records in ``doc.user_data``.
RELATIONS_DATA_KEY = "spacy_biobert.relations"
CONCEPT_RELATIONS_DATA_KEY = "spacy_biobert.concept_relations"

#: A concept-level relation: ``(head concept id, tail concept id, label)``.
ConceptKey = Tuple[str, str, str]
#: CDR's relation, chemical-induced disease: (head entity label, tail entity label).
CID_TYPE_PAIRS = frozenset({("Chemical", "Disease")})


class Relation(NamedTuple):
    """A mention-level relation between two spans of the same ``Doc``."""

    head: Span
    tail: Span
    label: str
    score: float = 1.0


RelationLike = Union[Relation, Tuple[Span, Span, str], Tuple[Span, Span, str, float]]


def _record(doc: Doc, rel: RelationLike) -> Tuple[int, int, int, int, str, float]:
    head, tail, label = rel[0], rel[1], rel[2]
    score = float(rel[3]) if len(rel) > 3 else 1.0
    for role, span in (("head", head), ("tail", tail)):
        if not isinstance(span, Span) or span.doc is not doc:
            raise ValueError(f"Relation {role} must be a Span of the same Doc, got {span!r}")
    if not isinstance(label, str) or not label:
        raise ValueError(f"Relation label must be a non-empty string, got {label!r}")
    return (head.start, head.end, tail.start, tail.end, label, score)


def get_relations(doc: Doc) -> Tuple[Relation, ...]:
    """Return the mention-level relations of ``doc``, in stored order.

    Args:
        doc: the document.
    Returns:
        A tuple of :class:`Relation` with spans of ``doc``.
    """
    records = doc.user_data.get(RELATIONS_DATA_KEY, ())
    return tuple(
        Relation(Span(doc, hs, he), Span(doc, ts, te), str(label), float(score))
        for hs, he, ts, te, label, score in records
    )


def set_relations(doc: Doc, relations: Iterable[RelationLike]) -> None:
    """Replace the mention-level relations of ``doc``.

    Duplicates of the same (head, tail, label) keep the highest score.

    Args:
        doc: the document.
        relations: :class:`Relation` objects or ``(head, tail, label[, score])`` tuples.
    """
    best: Dict[tuple, tuple] = {}
    for rel in relations:
        record = _record(doc, rel)
        key = record[:5]
        if key not in best or record[5] > best[key][5]:
            best[key] = record
    doc.user_data[RELATIONS_DATA_KEY] = tuple(best.values())


def add_relation(doc: Doc, head: Span, tail: Span, label: str, score: float = 1.0) -> None:
    """Add one mention-level relation to ``doc`` (keeping the higher score on duplicates)."""
    set_relations(doc, list(get_relations(doc)) + [Relation(head, tail, label, score)])


def get_concept_relations(doc: Doc) -> Dict[ConceptKey, float]:
    """Return the concept-level relations of ``doc`` as ``{(head_id, tail_id, label): score}``."""
    records = doc.user_data.get(CONCEPT_RELATIONS_DATA_KEY, ())
    return {(str(h), str(t), str(lab)): float(score) for h, t, lab, score in records}


def set_concept_relations(
    doc: Doc, relations: Union[Mapping[ConceptKey, float], Iterable[ConceptKey]]
) -> None:
    """Replace the concept-level relations of ``doc``.

    Args:
        doc: the document.
        relations: a mapping ``{(head_id, tail_id, label): score}``, or an iterable of
            ``(head_id, tail_id, label)`` keys (score 1.0).
    """
    items = relations.items() if isinstance(relations, Mapping) else ((k, 1.0) for k in relations)
    best: Dict[ConceptKey, float] = {}
    for key, score in items:
        if len(key) != 3 or not all(isinstance(part, str) and part for part in key):
            raise ValueError(f"Concept relation keys are (head_id, tail_id, label) strings, got {key!r}")
        key = tuple(key)
        best[key] = max(float(score), best.get(key, float("-inf")))
    doc.user_data[CONCEPT_RELATIONS_DATA_KEY] = tuple((*key, score) for key, score in sorted(best.items()))


def install_relation_extensions() -> None:
    """Register ``doc._.biobert_relations`` and ``doc._.biobert_concept_relations``. Idempotent.

    Raises:
        ExtensionConflictError: if another package owns one of the names.
    """
    install_extension(RELATIONS_ATTR, getter=get_relations, setter=set_relations)
    install_extension(CONCEPT_RELATIONS_ATTR, getter=get_concept_relations, setter=set_concept_relations)
