"""Linking the mentions of one document: abbreviation resolution, candidates, one id per string.

1. A mention whose text is a short form defined in the document (``doxorubicin (DOX)``) is looked up by its
   long form; if that finds nothing at least as good as the short form itself, the short form's own
   candidates are kept.
2. Mentions are looked up with :meth:`ConceptMatcher.candidates <.matcher.ConceptMatcher.candidates>`.
3. Consistency: mentions of one document with the same normalised text get the same best id -- the one with
   the largest summed best score among them (ties: the most frequent, then the first seen).
"""
from collections import defaultdict
from typing import Dict, List, Mapping, Sequence

from .matcher import Candidate, ConceptMatcher, Query


def _best_score(candidates: List[Candidate]) -> float:
    return candidates[0][1] if candidates else 0.0


def _with_abbreviations(
    matcher: ConceptMatcher, queries: Sequence[Query], abbreviations: Mapping[str, str]
) -> List[List[Candidate]]:
    own = matcher.candidates(queries)
    rows = [i for i, (text, _) in enumerate(queries) if text in abbreviations]
    if not rows:
        return own
    expanded = matcher.candidates([(abbreviations[queries[i][0]], queries[i][1]) for i in rows])
    for i, found in zip(rows, expanded):
        if found and _best_score(found) >= _best_score(own[i]):
            own[i] = found
    return own


def make_consistent(matcher: ConceptMatcher, queries: Sequence[Query], found: List[List[Candidate]]) -> None:
    """Give every mention of one normalised text the same best id (in place; see the module docstring)."""
    groups: Dict[str, List[int]] = defaultdict(list)
    for i, (text, _) in enumerate(queries):
        if found[i]:
            groups[matcher.normalizer(text)].append(i)
    for rows in groups.values():
        votes: Dict[str, List[float]] = defaultdict(list)
        for i in rows:
            votes[found[i][0][0]].append(found[i][0][1])
        if len(votes) < 2:
            continue
        winner = max(votes, key=lambda cid: (sum(votes[cid]), len(votes[cid])))
        score = max(votes[winner])
        for i in rows:
            rest = [c for c in found[i] if c[0] != winner]
            found[i] = [(winner, score), *rest][: matcher.top_k]


def link_mentions(
    matcher: ConceptMatcher,
    queries: Sequence[Query],
    abbreviations: Mapping[str, str] = {},
    consistent: bool = True,
) -> List[List[Candidate]]:
    """Candidates (best first) for the ``(text, label)`` mentions of one document.

    Args:
        matcher: the candidate generator.
        queries: the document's mentions.
        abbreviations: ``{short form: long form}`` defined in the document (empty: no resolution).
        consistent: apply the one-id-per-string rule.
    """
    found = _with_abbreviations(matcher, queries, abbreviations)
    if consistent:
        make_consistent(matcher, queries, found)
    return found
