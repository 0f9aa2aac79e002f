"""Human-readable report of what a pipeline found in a text: entities with confidences, relations with scores."""
from typing import List

from spacy.tokens import Doc

from .extensions import NER_SPANS_KEY

SAMPLE_ABSTRACT = (
    "Cisplatin-induced nephrotoxicity and ototoxicity were observed in patients treated for ovarian cancer. "
    "Co-administration of amifostine reduced the renal damage, whereas high-dose lithium caused tremor "
    "and polyuria in two patients."
)


def entity_lines(doc: Doc, span_key: str = NER_SPANS_KEY) -> List[str]:
    """One line per entity: text, label, confidence (when the NER head stored one) and character offsets."""
    group = doc.spans.get(span_key)
    scores = {}
    if group is not None and "scores" in group.attrs:
        scores = {(s.start, s.end, s.label_): float(p) for s, p in zip(group, group.attrs["scores"])}
    lines = []
    for ent in doc.ents:
        score = scores.get((ent.start, ent.end, ent.label_))
        shown = f"{score:.3f}" if score is not None else "  -  "
        lines.append(f"{ent.text:<30} {ent.label_:<12} {shown}  [{ent.start_char}:{ent.end_char}]")
    return lines


def relation_lines(doc: Doc) -> List[str]:
    """One line per relation, concept level then mention level, highest score first."""
    concept = sorted(doc._.biobert_concept_relations.items(), key=lambda kv: -kv[1])
    lines = [f"{head} --{label}--> {tail}   {score:.3f}" for (head, tail, label), score in concept]
    mention = sorted(doc._.biobert_relations, key=lambda rel: -rel.score)
    lines += [f"{r.head.text!r} --{r.label}--> {r.tail.text!r}   {r.score:.3f}" for r in mention]
    return lines


def report(doc: Doc) -> str:
    """The full report for ``doc`` as one string."""
    ents = entity_lines(doc) or ["(none)"]
    rels = relation_lines(doc) or ["(none)"]
    return "\n".join(["Entities (text, label, confidence, chars):", *ents, "", "Relations (score):", *rels])
