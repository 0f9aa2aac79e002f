"""Where end-to-end relations are lost: a waterfall over the gold concept relations.

Each gold concept relation ``(head id, tail id, label)`` of a document passes (or stops at) three stages:

1. **found** -- for both concepts, the NER predicted a mention with the exact character span of one of the
   concept's gold mentions, with a label of the relation's side (a head label of ``type_pairs`` for the head,
   a tail label for the tail);
2. **linked** -- found, and both concepts are among the ids the pipeline gave its entities of that side
   (``ent.kb_id_`` from the linker): the pair is among the relation head's candidates;
3. **predicted** -- linked, and the pipeline predicted the relation at the decision threshold.

Beside the stages, **reach** counts the gold relations whose two ids are among the entities' ids, whatever the
spans (a concept linked from a mention whose span differs from gold still reaches the relation head): the
ceiling of end-to-end recall.
"""
from collections import Counter, defaultdict
from typing import Dict, Iterable, Set, Tuple

from spacy.training import Example

from ..concepts import concept_ids, gold_span_ids
from ..relations import CID_TYPE_PAIRS, get_concept_relations
from .rel import predicted_concept_keys

#: The stages, in order.
STAGES = ("gold", "found", "linked", "predicted")


def pair_waterfall(
    examples: Iterable[Example], threshold: float, type_pairs: Iterable[Tuple[str, str]] = CID_TYPE_PAIRS
) -> Dict[str, int]:
    """Count the gold concept relations of ``examples`` at each stage (see the module docstring).

    Args:
        examples: predicted docs (entities with ids, relation store filled) and gold references.
        threshold: the relation head's decision threshold.
        type_pairs: allowed ``(head label, tail label)`` pairs.
    Returns:
        ``{"gold", "found", "linked", "predicted", "reach"}``: numbers of gold concept relations.
    """
    sides = ({head for head, _ in type_pairs}, {tail for _, tail in type_pairs})
    counts: Counter = Counter({stage: 0 for stage in (*STAGES, "reach")})
    for eg in examples:
        gold = set(get_concept_relations(eg.reference))
        if not gold:
            continue
        spans = gold_span_ids(eg.reference)
        found: Dict[int, Set[str]] = defaultdict(set)
        linked: Dict[int, Set[str]] = defaultdict(set)
        for ent in eg.predicted.ents:
            for side, labels in enumerate(sides):
                if ent.label_ in labels:
                    found[side].update(spans.get((ent.start_char, ent.end_char), ()))
                    linked[side].update(concept_ids(ent))
        predicted = predicted_concept_keys(eg.predicted, eg.reference, threshold)
        for key in gold:
            head, tail, _ = key
            reach = head in linked[0] and tail in linked[1]
            is_found = head in found[0] and tail in found[1]
            counts["gold"] += 1
            counts["reach"] += reach
            counts["found"] += is_found
            counts["linked"] += is_found and reach
            counts["predicted"] += is_found and reach and key in predicted
    return dict(counts)
