"""Choosing the relation head's decision threshold on development data (concept-level CID F).

The predictions must have been made with the pipe's threshold at 0, so that every candidate pair is stored
with its score (the relation store keeps scores, see :mod:`spacy_biobert.relations`); the sweep then only
filters the stored scores -- no model is run again. Concept relations are scored with the ids the pipeline
gave its entities (``rel_concept_*`` of :func:`spacy_biobert.scoring.rel.score_relations`).
"""
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from spacy.scorer import PRFScore
from spacy.training import Example

from ..relations import ConceptKey, get_concept_relations

#: The thresholds tried by default: 0.05, 0.10, ..., 0.95.
DEFAULT_THRESHOLDS: Tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))
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
