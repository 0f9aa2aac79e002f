"""Choosing the relation head's decision threshold on development data (concept-level CID F).

The predictions must have been made with the pipe's threshold at 0, so that every candidate pair is stored
with its score (the relation store keeps scores, see :mod:`spacy_biobert.relations`); the sweep then only
filters the stored scores -- no model is run again. Concept relations are scored with the ids the pipeline
gave its entities (``rel_concept_*`` of :func:`spacy_biobert.scoring.rel.score_relations`).
"""
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from spacy.tokens import Doc

from spacy.scorer import PRFScore
from spacy.training import Example

from ..concepts import title_concept_ids
from ..relations import ConceptKey, get_concept_relations, set_concept_relations

#: The thresholds tried by default: 0.05, 0.10, ..., 0.95, then 0.97 and 0.99 (room above the title bonus).
DEFAULT_THRESHOLDS: Tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20)) + (0.97, 0.99)
#: The title bonuses tried by :func:`tune_title_bonus` by default.
DEFAULT_TITLE_BONUSES: Tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
#: Per example: the predicted concept relations with their scores, and the gold concept relations.
Scored = Tuple[Dict[ConceptKey, float], Set[ConceptKey]]


def _scored(examples: Iterable[Example]) -> List[Scored]:
    return [(get_concept_relations(eg.predicted), set(get_concept_relations(eg.reference))) for eg in examples]


def _prf(scored: Sequence[Scored], threshold: float) -> Dict[str, float]:
    total = PRFScore()
    for predicted, gold in scored:
        total.score_set({key for key, score in predicted.items() if score >= threshold}, gold)
    return {"p": total.precision, "r": total.recall, "f": total.fscore}


def concept_prf(examples: Iterable[Example], threshold: float) -> Dict[str, float]:
    """Concept-level relation P/R/F of ``examples`` keeping predictions scoring at least ``threshold``.

    Args:
        examples: predicted docs (relation store filled) and gold references.
        threshold: the decision threshold.
    Returns:
        ``{"p", "r", "f"}`` (0.0 where undefined).
    """
    return _prf(_scored(examples), threshold)


def tune_threshold(
    examples: Iterable[Example], thresholds: Optional[Sequence[float]] = None
) -> Tuple[float, Dict[str, float]]:
    """The threshold with the best concept-level F; ties go to the higher threshold.

    Args:
        examples: predicted docs, made with the relation pipe's threshold at 0, and gold references.
        thresholds: the thresholds to try (default :data:`DEFAULT_THRESHOLDS`).
    Returns:
        ``(best threshold, {"p", "r", "f"} at it)``.
    Raises:
        ValueError: if no threshold is given, or the examples hold no gold concept relation (every threshold
            would score F = 0).
    """
    candidates = sorted({float(t) for t in (DEFAULT_THRESHOLDS if thresholds is None else thresholds)})
    if not candidates:
        raise ValueError("tune_threshold: no threshold to try (thresholds is empty)")
    scored = _scored(examples)
    if not any(gold for _, gold in scored):
        raise ValueError(
            f"tune_threshold: no gold concept relation in the {len(scored)} examples: "
            "the threshold cannot be tuned on data without relations"
        )
    best_t, best = candidates[0], _prf(scored, candidates[0])
    for threshold in candidates[1:]:
        scores = _prf(scored, threshold)
        if scores["f"] >= best["f"]:  # >=: a tie goes to the higher threshold
            best_t, best = threshold, scores
    return best_t, best


def with_title_bonus(examples: Iterable[Example], bonus: float) -> List[Example]:
    """``examples`` whose predicted concept relations between two concepts of the title get ``bonus`` added to
    their score (at most 1), as ``biobert_rel`` with that ``title_bonus`` stores them
    (:mod:`spacy_biobert.pipeline.rel_title`); the predicted docs are copies. Made with the bonus at 0."""
    out = []
    for eg in examples:
        named = title_concept_ids(eg.predicted) if bonus > 0 else set()
        scores = get_concept_relations(eg.predicted)
        if not any(head in named and tail in named for head, tail, _ in scores):
            out.append(eg)
            continue
        doc: Doc = eg.predicted.copy()
        set_concept_relations(doc, {key: min(1.0, score + bonus) if key[0] in named and key[1] in named else score
                                    for key, score in scores.items()})
        out.append(Example(doc, eg.reference))
    return out


def tune_title_bonus(
    examples: Sequence[Example], bonuses: Optional[Sequence[float]] = None,
    thresholds: Optional[Sequence[float]] = None,
) -> Tuple[float, float, Dict[str, float]]:
    """The title bonus and threshold with the best concept-level F (ties: the smaller bonus, the higher threshold).

    Args:
        examples: predicted docs, made with the relation pipe's threshold and title bonus at 0, and gold references.
        bonuses: the title bonuses to try (default :data:`DEFAULT_TITLE_BONUSES`).
        thresholds: the thresholds to try with each (default :data:`DEFAULT_THRESHOLDS`).
    Returns:
        ``(best bonus, best threshold, {"p", "r", "f"} at them)``.
    Raises:
        ValueError: as :func:`tune_threshold`, or if no bonus is given.
    """
    bonuses = DEFAULT_TITLE_BONUSES if bonuses is None else bonuses
    if not bonuses:
        raise ValueError("tune_title_bonus: no title bonus to try (bonuses is empty)")
    best = None
    for bonus in sorted({float(b) for b in bonuses}):
        threshold, scores = tune_threshold(with_title_bonus(examples, bonus), thresholds)
        if best is None or scores["f"] > best[2]["f"]:  # >: a tie keeps the smaller bonus
            best = (bonus, threshold, scores)
    return best
