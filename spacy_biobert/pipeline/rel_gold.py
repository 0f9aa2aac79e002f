"""Training targets of the relation head: the 0/1 label of every candidate, and the relation labels and
(head entity label, tail entity label) pairs a training set contains."""
from typing import Dict, Iterable, Sequence, Set, Tuple

import numpy
from spacy.tokens import Doc

from ..concepts import concept_ids
from ..corpus.builder import MENTIONS_KEY
from ..relations import get_concept_relations, get_relations
from .rel_candidates import PairInfo


def gold_labels(reference: Doc, infos: Sequence[PairInfo], labels: Sequence[str], mention_level: bool) -> numpy.ndarray:
    """The 0/1 target of every candidate and label.

    Args:
        reference: the gold doc (its relation store).
        infos: the candidates, with concept ids already mapped to gold ones.
        labels: the relation labels, in output order.
        mention_level: use the reference's mention-level relations (matched by character offsets) if it
            has any; otherwise a candidate is positive when any of its head x tail ids is a gold concept relation.
    Returns:
        A float array ``(len(infos), len(labels))``.
    """
    gold_concepts = set(get_concept_relations(reference))
    gold_mentions = {(r.head.start_char, r.head.end_char, r.tail.start_char, r.tail.end_char, r.label)
                     for r in get_relations(reference)}
    use_mentions = mention_level and bool(gold_mentions)
    truths = numpy.zeros((len(infos), len(labels)), dtype="f")
    for i, info in enumerate(infos):
        for k, label in enumerate(labels):
            if use_mentions:
                key = (info.head.start_char, info.head.end_char, info.tail.start_char, info.tail.end_char, label)
                truths[i, k] = key in gold_mentions
            else:
                truths[i, k] = any((h, t, label) in gold_concepts for h in info.head_ids for t in info.tail_ids)
    return truths


def labels_and_type_pairs(docs: Iterable[Doc]) -> Tuple[Set[str], Set[Tuple[str, str]]]:
    """The relation labels and (head entity label, tail entity label) pairs found in gold ``docs``."""
    labels: Set[str] = set()
    pairs: Set[Tuple[str, str]] = set()
    for doc in docs:
        # Stored relations address spans by offsets only: take entity labels from the doc's mentions.
        label_at = {(s.start, s.end): s.label_ for s in list(doc.spans.get(MENTIONS_KEY, [])) + list(doc.ents)}
        for rel in get_relations(doc):
            labels.add(rel.label)
            head, tail = (label_at.get((s.start, s.end)) for s in (rel.head, rel.tail))
            if head and tail:
                pairs.add((head, tail))
        types: Dict[str, Set[str]] = {}
        for ent in doc.ents:
            for cid in concept_ids(ent):
                types.setdefault(cid, set()).add(ent.label_)
        for head, tail, label in get_concept_relations(doc):
            labels.add(label)
            pairs.update((a, b) for a in types.get(head, ()) for b in types.get(tail, ()))
    return labels, pairs
