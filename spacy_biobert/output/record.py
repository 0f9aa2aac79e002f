"""The output record: one JSON-serialisable dict per document, the same for every way out of a pipeline
(``spacy biobert annotate`` files, the REST server, the Ray backend), so their results are identical.

Schema ``spacy-biobert/record`` version :data:`SCHEMA_VERSION` (offsets are half-open, in Python characters
of ``text``)::

    {
      "schema": "spacy-biobert/record", "version": 2,
      "id": "12345",                       # document id (None when the input had none)
      "text": "...",
      "sections": [{"type": "title", "start": 0, "end": 47},     # the input's sections (PubTator title and
                   {"type": "abstract", "start": 48, "end": 900}], # abstract, BioC passages); [] for plain text
      "entities": [                        # doc.ents, in order; ids "T0", "T1", ...
        {"id": "T0", "label": "Chemical", "start": 0, "end": 9, "text": "Cisplatin",
         "confidence": 0.98,               # the NER head's probability, None when no head stored one
         "concepts": [{"id": "D002945", "name": "Cisplatin", "score": 0.93}],
                                           # the entity's ids (kb_id_ split on "|"), their KB name (None when the
                                           # KB has no such id, or without a KB) and the linker's score if it
                                           # linked them; an entity without an id has one concept
                                           # "text:<its lower-cased text>" (name and score None), the id its
                                           # relations use: a writer never puts it in an identifier field
         "candidates": [{"id": "D002945", "name": "Cisplatin", "score": 0.93}, ...]}  # the linker's top
      ],                                   # candidates, best first (also below its threshold); [] without a linker
      "relations": [{"head": "T0", "tail": "T1", "label": "CID", "score": 0.9}],        # mention level
      "concept_relations": [{"head": "D002945", "tail": "D007674", "label": "CID", "score": 0.8,
                             "head_name": "Cisplatin", "tail_name": "Kidney Diseases"}]
    }

A relation whose head or tail is not one of ``doc.ents`` adds that span as an entity (``confidence`` None),
so no relation is ever dropped. :func:`doc_to_record` is a pure function of the ``Doc`` and the KB that names
the concepts (:func:`pipeline_kb`: the linker's).
"""
from typing import Any, Dict, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..concepts import concept_ids
from ..corpus.builder import DOC_ID_ATTR
from ..corpus.sections import get_sections
from ..kb import KnowledgeBase
from ..kb.link_candidates import get_link_candidates
from ..pipeline.linker import BioBertLinker
from ..pipeline.ner import NER_SPANS_KEY
from ..relations import get_concept_relations, get_relations

SCHEMA = "spacy-biobert/record"
SCHEMA_VERSION = 2
Record = Dict[str, Any]


def pipeline_kb(nlp: Language) -> Optional[KnowledgeBase]:
    """The knowledge base of ``nlp``'s entity linker (the first :class:`BioBertLinker` holding one), else None."""
    for _, proc in nlp.pipeline:
        if isinstance(proc, BioBertLinker) and proc.kb is not None:
            return proc.kb
    return None


def concept_name(kb: Optional[KnowledgeBase], cid: str) -> Optional[str]:
    """The name of concept ``cid`` in ``kb`` (None without a KB or when ``kb`` has no such id)."""
    concept = kb.get(cid) if kb is not None else None
    return concept.name if concept is not None else None


def ner_scores(doc: Doc, span_key: str = NER_SPANS_KEY) -> Dict[Tuple[int, int, str], float]:
    """The NER head's probability of each entity it stored in ``doc.spans[span_key]``, by (start, end, label)."""
    group = doc.spans.get(span_key)
    if group is None or "scores" not in group.attrs:
        return {}
    return {(s.start, s.end, s.label_): float(p) for s, p in zip(group, group.attrs["scores"])}


def _entity(span: Span, index: int, confidence: Optional[float], linked: Dict,
            kb: Optional[KnowledgeBase]) -> Dict[str, Any]:
    candidates = [{"id": cid, "name": concept_name(kb, cid), "score": score}
                  for cid, score in linked.get((span.start_char, span.end_char), ())]
    score_of = {c["id"]: c["score"] for c in candidates}
    return {
        "id": f"T{index}", "label": span.label_, "start": span.start_char, "end": span.end_char,
        "text": span.text, "confidence": confidence,
        "concepts": [{"id": cid, "name": concept_name(kb, cid), "score": score_of.get(cid)}
                     for cid in concept_ids(span)],
        "candidates": candidates,
    }


def doc_to_record(doc: Doc, doc_id: Optional[str] = None, kb: Optional[KnowledgeBase] = None) -> Record:
    """The record of an annotated ``doc`` (see the module docstring).

    Args:
        doc: a document processed by a pipeline (or built by a converter).
        doc_id: the document id; defaults to ``doc._.biobert_doc_id``.
        kb: the knowledge base naming the concepts (``pipeline_kb(nlp)``); without one every name is None.
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
            entities.append(_entity(span, len(entities), confidence, linked, kb))
        return ids[key]

    for ent in doc.ents:
        entity_id(ent, scores.get((ent.start, ent.end, ent.label_)))
    relations = [
        {"head": entity_id(rel.head, None), "tail": entity_id(rel.tail, None), "label": rel.label, "score": rel.score}
        for rel in get_relations(doc)
    ]
    concept_relations = [
        {"head": head, "tail": tail, "label": label, "score": score,
         "head_name": concept_name(kb, head), "tail_name": concept_name(kb, tail)}
        for (head, tail, label), score in sorted(get_concept_relations(doc).items())
    ]
    if doc_id is None and doc.has_extension(DOC_ID_ATTR):
        doc_id = doc._.get(DOC_ID_ATTR)
    return {
        "schema": SCHEMA, "version": SCHEMA_VERSION, "id": doc_id, "text": doc.text,
        "sections": [{"type": kind, "start": start, "end": end} for kind, start, end in get_sections(doc)],
        "entities": entities, "relations": relations, "concept_relations": concept_relations,
    }
