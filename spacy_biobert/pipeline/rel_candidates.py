"""Candidates for the relation head -- which mention pairs, and which entity pairs, are scored.

A *candidate generator* (registered as ``spacy_biobert.candidates.v1``) is given the head-side and tail-side
mentions of one allowed (head label, tail label) pair and yields **blocks** ``(head indices, tail indices)``:
every head of a block pairs with every tail of it (a mention never pairs with itself). Blocks keep memory
bounded: :func:`build_candidates` filters mentions by label *before* pairing, then either

* (concept pairs) takes the product of the *distinct concepts* of each block's heads and tails (numpy index
  arrays), so thousands of mentions of a few concepts cost a few pairs, never a list of mention pairs; or
* (mention pairs) expands each block into numpy index arrays (8 bytes per pair; no Python object per pair).

Scopes: ``"document"`` (one block), ``"sentence"`` (one block per sentence, by the sentence in which each
mention starts; a doc without sentence boundaries is one sentence, so add a ``sentencizer`` before the
relation head) and ``"window"`` (per head, the tails at most ``window`` tokens away, found by bisection).
"""
from bisect import bisect_left, bisect_right
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Set, Tuple

import numpy
from spacy.tokens import Doc, Span
from spacy.util import registry

from ..concepts import ConceptsOf
from ..models.rel_local import token_sentences
from ..models.types import RelInstances
from ..relations import ConceptKey

SCOPES = ("document", "sentence", "window")
Block = Tuple[Sequence[int], Sequence[int]]
CandidateGenerator = Callable[[Doc, Sequence[Span], Sequence[Span]], Iterator[Block]]
EntityKey = Tuple[str, str]  # (concept id, entity label)
PAIR_DTYPE = "int32"  # 8 bytes per candidate pair


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


class Candidates:
    """The candidate pairs of one document: the model's instances plus what each row stands for.

    Behaves as a sequence of :class:`PairInfo` (one per model output row), built on access, so a document
    with millions of candidate pairs holds them as two integer arrays only.
    """

    def __init__(self, instances: RelInstances, ids: Sequence[Tuple[str, ...]], mentions: Optional[Sequence[Span]]):
        self.instances = instances
        self.ids = ids
        self.mentions = mentions

    def __len__(self) -> int:
        return len(self.instances.pairs)

    def __getitem__(self, row: int) -> PairInfo:
        h, t = (int(x) for x in self.instances.pairs[row])
        if self.mentions is None:
            return PairInfo(self.ids[h], self.ids[t])
        return PairInfo(self.ids[h], self.ids[t], self.mentions[h], self.mentions[t])

    def __iter__(self) -> Iterator[PairInfo]:
        return (self[row] for row in range(len(self)))


def sentence_ids(doc: Doc) -> List[int]:
    """Sentence index of every token; all 0 when ``doc`` has no sentence boundaries."""
    return token_sentences(len(doc), sentence_bounds(doc)).tolist()


def sentence_bounds(doc: Doc) -> List[Tuple[int, int]]:
    """``(start, end)`` token offsets of the sentences of ``doc``; empty when it has no sentence boundaries."""
    if not doc.has_annotation("SENT_START"):
        return []
    return [(sent.start, sent.end) for sent in doc.sents]


def _sentence_blocks(doc: Doc, heads: Sequence[Span], tails: Sequence[Span]) -> Iterator[Block]:
    sent = sentence_ids(doc)
    by_sentence: Dict[int, Tuple[List[int], List[int]]] = {}
    for side, mentions in enumerate((heads, tails)):
        for i, span in enumerate(mentions):
            by_sentence.setdefault(sent[span.start], ([], []))[side].append(i)
    yield from (block for _, block in sorted(by_sentence.items()) if block[0] and block[1])


def _window_blocks(heads: Sequence[Span], tails: Sequence[Span], window: int) -> Iterator[Block]:
    # doc.ents do not overlap, so tails sorted by start are sorted by end too.
    order = sorted(range(len(tails)), key=lambda j: (tails[j].start, tails[j].end))
    starts = [tails[j].start for j in order]
    ends = [tails[j].end for j in order]
    for i, head in enumerate(heads):
        # gap <= window: a tail after the head starts by head.end + window, one before it ends at head.start - window
        lo, hi = bisect_left(ends, head.start - window), bisect_right(starts, head.end + window)
        near = sorted(order[k] for k in range(lo, hi))
        if near:
            yield [i], near


@registry.misc("spacy_biobert.candidates.v1")
def make_candidate_generator(scope: str = "document", window: int = 0) -> CandidateGenerator:
    """Build a candidate generator.

    Args:
        scope: ``"document"``, ``"sentence"`` or ``"window"``.
        window: for ``"window"``: the largest number of tokens allowed between the two mentions.
    Returns:
        ``f(doc, heads, tails) -> iterator of (head indices, tail indices)`` blocks (see the module docstring).
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    if scope == "window" and window < 0:
        raise ValueError(f"window must be >= 0, got {window}")

    def generate(doc: Doc, heads: Sequence[Span], tails: Sequence[Span]) -> Iterator[Block]:
        if not heads or not tails:
            return iter(())
        if scope == "sentence":
            return _sentence_blocks(doc, heads, tails)
        if scope == "window":
            return _window_blocks(heads, tails, window)
        return iter([(range(len(heads)), range(len(tails)))])

    return generate


def _label_blocks(
    doc: Doc, mentions: List[Span], generator: CandidateGenerator, type_pairs: Set[Tuple[str, str]]
) -> Iterator[Block]:
    """Blocks of every allowed label pair, as indices into ``mentions``."""
    by_label: Dict[str, List[int]] = {}
    for i, ent in enumerate(mentions):
        by_label.setdefault(ent.label_, []).append(i)
    for head_label, tail_label in sorted(type_pairs):
        heads, tails = by_label.get(head_label, []), by_label.get(tail_label, [])
        for h, t in generator(doc, [mentions[i] for i in heads], [mentions[j] for j in tails]):
            yield [heads[i] for i in h], [tails[j] for j in t]


def _mention_pairs(blocks: Iterator[Block]) -> numpy.ndarray:
    """All (head, tail) mention pairs of the blocks, without self pairs or repeats, sorted."""
    chunks = [numpy.zeros((0, 2), dtype=PAIR_DTYPE)]
    for heads, tails in blocks:
        heads, tails = (numpy.asarray(side, dtype=PAIR_DTYPE) for side in (heads, tails))
        grid = numpy.stack(numpy.meshgrid(heads, tails, indexing="ij"), -1)
        grid = grid.reshape(-1, 2)
        chunks.append(grid[grid[:, 0] != grid[:, 1]])
    return numpy.unique(numpy.concatenate(chunks), axis=0)


def _concept_pairs(blocks: Iterator[Block], entities_of: List[List[int]], concept_of: numpy.ndarray) -> numpy.ndarray:
    """Distinct (head entity, tail entity) pairs of the blocks -- per block, its distinct head entities x its
    distinct tail entities, without pairs of the same concept id -- sorted."""
    chunks = [numpy.zeros((0, 2), dtype=PAIR_DTYPE)]
    for heads, tails in blocks:
        head_ents, tail_ents = (
            numpy.unique(numpy.asarray([e for i in side for e in entities_of[i]], dtype=PAIR_DTYPE))
            for side in (heads, tails)
        )
        grid = numpy.stack(numpy.meshgrid(head_ents, tail_ents, indexing="ij"), -1).reshape(-1, 2)
        chunks.append(grid[concept_of[grid[:, 0]] != concept_of[grid[:, 1]]])
    return numpy.unique(numpy.concatenate(chunks), axis=0)


def build_candidates(
    doc: Doc,
    generator: CandidateGenerator,
    type_pairs: Set[Tuple[str, str]],
    concepts_of: ConceptsOf,
    by_concept: bool,
) -> Candidates:
    """Turn ``doc.ents`` into the model's instances for one document.

    Args:
        doc: the document; its ``ents`` are the mentions.
        generator: proposes blocks of mention pairs.
        type_pairs: allowed ``(head label, tail label)`` pairs.
        concepts_of: concept ids of a mention (its own ids, or gold ids while training).
        by_concept: one instance per concept pair (True) or per mention pair (False).
    Returns:
        The candidates (instances, and a :class:`PairInfo` per model output row).
    """
    labels = {label for pair in type_pairs for label in pair}
    mentions = [ent for ent in doc.ents if ent.label_ in labels]
    ids = [concepts_of(ent) for ent in mentions]
    spans = [(ent.start, ent.end) for ent in mentions]
    blocks = _label_blocks(doc, mentions, generator, type_pairs)
    sentences = sentence_bounds(doc)
    if not by_concept:
        pairs = _mention_pairs(blocks)
        return Candidates(RelInstances(spans, [[i] for i in range(len(mentions))], pairs, sentences), ids, mentions)
    keys = [[(cid, ent.label_) for cid in cids] for cids, ent in zip(ids, mentions)]
    members: Dict[EntityKey, List[int]] = {}
    for i, mention_keys in enumerate(keys):
        for key in mention_keys:
            members.setdefault(key, []).append(i)
    entity_keys = sorted(members)
    index = {key: e for e, key in enumerate(entity_keys)}
    codes: Dict[str, int] = {}
    concept_of = numpy.asarray([codes.setdefault(cid, len(codes)) for cid, _ in entity_keys], dtype=PAIR_DTYPE)
    pairs = _concept_pairs(blocks, [[index[key] for key in mention_keys] for mention_keys in keys], concept_of)
    instances = RelInstances(spans, [members[key] for key in entity_keys], pairs, sentences)
    return Candidates(instances, [(key[0],) for key in entity_keys], None)


def concept_hits(cands: Candidates, probs: numpy.ndarray, labels: Sequence[str], threshold: float) -> Dict[ConceptKey, float]:
    """The concept relations scoring at least ``threshold``: each (head ids, tail ids, label) takes the best
    probability of its candidate rows (one row per concept pair, or the maximum over mention pairs).

    Rows are grouped in numpy first, so millions of mention pairs of a few concepts cost no Python object each.
    """
    if not len(cands):
        return {}
    codes: Dict[Tuple[str, ...], int] = {}
    entity_code = numpy.asarray([codes.setdefault(ids, len(codes)) for ids in cands.ids], dtype="int64")
    groups, inverse = numpy.unique(entity_code[cands.instances.pairs], axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = numpy.argsort(inverse, kind="stable")
    starts = numpy.searchsorted(inverse[order], numpy.arange(len(groups)))
    best = numpy.maximum.reduceat(probs[order], starts, axis=0)
    id_tuples = list(codes)
    found: Dict[ConceptKey, float] = {}
    for g, k in zip(*numpy.nonzero(best >= threshold)):
        head_ids, tail_ids = id_tuples[groups[g, 0]], id_tuples[groups[g, 1]]
        for key in ((h, t, labels[k]) for h in head_ids for t in tail_ids if h != t):
            found[key] = max(float(best[g, k]), found.get(key, 0.0))
    return found
