"""The output record: one JSON-serialisable dict per document, the same for every way out of a pipeline
(``spacy biobert annotate`` files, the REST server, the Ray backend), so their results are identical.

Schema ``spacy-biobert/record`` version :data:`SCHEMA_VERSION` (offsets are half-open, in Python characters
of ``text``)::

    {
      "schema": "spacy-biobert/record", "version": 1,
      "id": "12345",                       # document id (None when the input had none)
      "text": "...",
      "entities": [                        # doc.ents, in order; ids "T0", "T1", ...
        {"id": "T0", "label": "Chemical", "start": 0, "end": 9, "text": "Cisplatin",
         "confidence": 0.98,               # the NER head's probability, None when no head stored one
         "concepts": [{"id": "D002945", "score": 0.93}],  # the entity's ids (kb_id_ split on "|"), with the
                                                          # linker's score if it linked them; an entity without
                                                          # an id: "text:<its lower-cased text>", score None
         "candidates": [{"id": "D002945", "score": 0.93}, ...]}  # the linker's top candidates, best first
      ],                                                         # (also below its threshold); [] without a linker
      "relations": [{"head": "T0", "tail": "T1", "label": "CID", "score": 0.9}],        # mention level
      "concept_relations": [{"head": "D002945", "tail": "D007674", "label": "CID", "score": 0.8}]
    }

A relation whose head or tail is not one of ``doc.ents`` adds that span as an entity (``confidence`` None),
so no relation is ever dropped. :func:`doc_to_record` is a pure function of the ``Doc``.
"""
from typing import Any, Dict, List, Optional, Tuple

from spacy.tokens import Doc, Span

from ..concepts import concept_ids
from ..corpus.builder import DOC_ID_ATTR
from ..kb.link_candidates import get_link_candidates
from ..pipeline.ner import NER_SPANS_KEY
from ..relations import get_concept_relations, get_relations

SCHEMA = "spacy-biobert/record"
SCHEMA_VERSION = 1
Record = Dict[str, Any]


def ner_scores(doc: Doc, span_key: str = NER_SPANS_KEY) -> Dict[Tuple[int, int, str], float]:
    """The NER head's probability of each entity it stored in ``doc.spans[span_key]``, by (start, end, label)."""
    group = doc.spans.get(span_key)
    if group is None or "scores" not in group.attrs:
        return {}
    return {(s.start, s.end, s.label_): float(p) for s, p in zip(group, group.attrs["scores"])}


def _entity(span: Span, index: int, confidence: Optional[float], linked: Dict) -> Dict[str, Any]:
    candidates = [{"id": cid, "score": score} for cid, score in linked.get((span.start_char, span.end_char), ())]
    score_of = {c["id"]: c["score"] for c in candidates}
    return {
        "id": f"T{index}", "label": span.label_, "start": span.start_char, "end": span.end_char,
        "text": span.text, "confidence": confidence,
        "concepts": [{"id": cid, "score": score_of.get(cid)} for cid in concept_ids(span)],
        "candidates": candidates,
    }


def doc_to_record(doc: Doc, doc_id: Optional[str] = None) -> Record:
    """The record of an annotated ``doc`` (see the module docstring).

    Args:
        doc: a document processed by a pipeline (or built by a converter).
        doc_id: the document id; defaults to ``doc._.biobert_doc_id``.
    Returns:
        A dict of JSON types only.
    """
    scores, linked = ner_scores(doc), get_link_candidates(doc)
    entities: List[Dict[str, Any]] = []
    ids: Dict[Tuple[int, int], str] = {}

    def entity_id(span: Span, confidence: Optional[float]) -> str:
        key = (span.start, span.end)
        if key not in ids:
            ids[key] = f"T{len(entities)}"
            entities.append(_entity(span, len(entities), confidence, linked))
        return ids[key]

    for ent in doc.ents:
        entity_id(ent, scores.get((ent.start, ent.end, ent.label_)))
    relations = [
        {"head": entity_id(rel.head, None), "tail": entity_id(rel.tail, None), "label": rel.label, "score": rel.score}
        for rel in get_relations(doc)
    ]
    concept_relations = [
        {"head": head, "tail": tail, "label": label, "score": score}
        for (head, tail, label), score in sorted(get_concept_relations(doc).items())
    ]
    if doc_id is None and doc.has_extension(DOC_ID_ATTR):
        doc_id = doc._.get(DOC_ID_ATTR)
    return {
        "schema": SCHEMA, "version": SCHEMA_VERSION, "id": doc_id, "text": doc.text,
        "entities": entities, "relations": relations, "concept_relations": concept_relations,
    }
