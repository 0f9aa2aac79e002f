"""Candidates for the relation head -- which mention pairs, and which entity pairs, are scored -- and their labels.

A *candidate generator* (registered as ``spacy_biobert.candidates.v1``) proposes ordered mention pairs by
position only; :func:`build_candidates` then keeps the pairs whose (head label, tail label) is allowed and
turns them into model instances, either one per **concept pair** (all mentions of both concepts pooled) or
one per **mention pair**.

Scopes: ``"document"`` (every pair), ``"sentence"`` (both mentions start in the same sentence; a doc
without sentence boundaries counts as a single sentence, so add a ``sentencizer`` before the relation
head) and ``"window"`` (at most ``window`` tokens between the two mentions).
"""
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple

import numpy

from spacy.tokens import Doc, Span
from spacy.util import registry

from ..concepts import ConceptsOf, concept_ids
from ..corpus.builder import MENTIONS_KEY
from ..models.types import RelInstances
from ..relations import get_concept_relations, get_relations

SCOPES = ("document", "sentence", "window")
MentionPairs = List[Tuple[int, int]]
CandidateGenerator = Callable[[Doc, Sequence[Span]], MentionPairs]


class PairInfo(NamedTuple):
    """What one model output row stands for.

    Attributes:
        head_ids: concept ids of the head (one id for a concept pair, all ids of a mention otherwise).
        tail_ids: concept ids of the tail.
        head: the head mention (mention pairs only).
        tail: the tail mention (mention pairs only).
    """

    head_ids: Tuple[str, ...]
    tail_ids: Tuple[str, ...]
    head: Optional[Span] = None
    tail: Optional[Span] = None


def sentence_ids(doc: Doc) -> List[int]:
    """Sentence index of every token; all 0 when ``doc`` has no sentence boundaries."""
    if not doc.has_annotation("SENT_START"):
        return [0] * len(doc)
    ids, current = [], -1
    for token in doc:
        current += 1 if (token.is_sent_start or current < 0) else 0
        ids.append(current)
    return ids


def _gap(a: Span, b: Span) -> int:
    return max(0, max(a.start, b.start) - min(a.end, b.end))


@registry.misc("spacy_biobert.candidates.v1")
def make_candidate_generator(scope: str = "document", window: int = 0) -> CandidateGenerator:
    """Build a candidate generator.

    Args:
        scope: ``"document"``, ``"sentence"`` or ``"window"``.
        window: for ``"window"``: the largest number of tokens allowed between the two mentions.
    Returns:
        ``f(doc, mentions) -> [(head index, tail index), ...]``, ordered pairs of distinct mentions.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    if scope == "window" and window < 0:
        raise ValueError(f"window must be >= 0, got {window}")

    def generate(doc: Doc, mentions: Sequence[Span]) -> MentionPairs:
        n = len(mentions)
        pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
        if scope == "sentence":
            sent = sentence_ids(doc)
            pairs = [(i, j) for i, j in pairs if sent[mentions[i].start] == sent[mentions[j].start]]
        elif scope == "window":
            pairs = [(i, j) for i, j in pairs if _gap(mentions[i], mentions[j]) <= window]
        return pairs

    return generate


def build_candidates(
    doc: Doc,
    generator: CandidateGenerator,
    type_pairs: Set[Tuple[str, str]],
    concepts_of: ConceptsOf,
    by_concept: bool,
) -> Tuple[RelInstances, List[PairInfo]]:
    """Turn ``doc.ents`` into the model's instances for one document.

    Args:
        doc: the document; its ``ents`` are the mentions.
        generator: proposes mention pairs.
        type_pairs: allowed ``(head label, tail label)`` pairs.
        concepts_of: concept ids of a mention (its own ids, or gold ids while training).
        by_concept: one instance per concept pair (True) or per mention pair (False).
    Returns:
        The instances and, for each of their pairs, a :class:`PairInfo`.
    """
    labels = {label for pair in type_pairs for label in pair}
    mentions = [ent for ent in doc.ents if ent.label_ in labels]
    ids = [concepts_of(ent) for ent in mentions]
    proposed = [
        (i, j) for i, j in generator(doc, mentions) if (mentions[i].label_, mentions[j].label_) in type_pairs
    ]
    spans = [(ent.start, ent.end) for ent in mentions]
    if not by_concept:
        infos = [PairInfo(ids[i], ids[j], mentions[i], mentions[j]) for i, j in proposed]
        return RelInstances(spans, [[i] for i in range(len(mentions))], proposed), infos
    keys = [[(cid, ent.label_) for cid in cids] for cids, ent in zip(ids, mentions)]
    members: Dict[Tuple[str, str], List[int]] = {}
    for i, mention_keys in enumerate(keys):
        for key in mention_keys:
            members.setdefault(key, []).append(i)
    entity_keys = sorted(members)
    index = {key: e for e, key in enumerate(entity_keys)}
    concept_pairs = sorted(
        {(index[a], index[b]) for i, j in proposed for a in keys[i] for b in keys[j] if a[0] != b[0]}
    )
    infos = [PairInfo((entity_keys[h][0],), (entity_keys[t][0],)) for h, t in concept_pairs]
    return RelInstances(spans, [members[key] for key in entity_keys], concept_pairs), infos


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
