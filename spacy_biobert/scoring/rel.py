"""Scoring relation extraction (``spacy_biobert.rel_scorer.v1``), at mention and concept level.

Concept level, two ways:

* ``rel_concept_*`` (honest): predicted concept relations are scored with the ids the pipeline itself gave its
  entities (``ent.kb_id_`` from a linker or the corpus; ``text:...`` for unlinked ones, which no gold relation
  uses). End to end, this is the CDR task: wrong or missing ids cost recall and precision.
* ``rel_concept_oracle_*`` (diagnostic, "oracle linking"): each predicted concept is replaced by the gold ids
  of its mentions that match a gold mention's exact character span (see :mod:`spacy_biobert.concepts`) -- what
  the relations would score with a perfect linker. With gold entities both are the same.
"""
from collections import defaultdict
from typing import Callable, Dict, Iterable, Optional, Set, Tuple

from spacy.scorer import PRFScore
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

from ..concepts import concept_translation
from ..relations import ConceptKey, get_concept_relations, get_relations

MentionKey = Tuple[int, int, int, int, str]


def predicted_concept_keys(
    predicted: Doc, reference: Doc, threshold: float = 0.0, oracle: bool = False
) -> Set[ConceptKey]:
    """The predicted concept relations of ``predicted`` (score >= ``threshold``): with their own ids, or with
    ``oracle`` in the gold ids of exactly matching mentions."""
    translation = concept_translation(predicted, reference) if oracle else {}
    keys: Set[ConceptKey] = set()
    for (head, tail, label), score in get_concept_relations(predicted).items():
        if score < threshold:
            continue
        heads = translation.get(head) or {head}
        tails = translation.get(tail) or {tail}
        keys.update((h, t, label) for h in heads for t in tails)
    return keys


def _mention_keys(doc: Doc, threshold: float) -> Set[MentionKey]:
    return {
        (rel.head.start_char, rel.head.end_char, rel.tail.start_char, rel.tail.end_char, rel.label)
        for rel in get_relations(doc)
        if rel.score >= threshold
    }


def _add(total: PRFScore, per_type: Dict[str, PRFScore], cand: Set[tuple], gold: Set[tuple]) -> None:
    total.score_set(cand, gold)
    for label in {key[-1] for key in cand | gold}:
        per_type[label].score_set({k for k in cand if k[-1] == label}, {k for k in gold if k[-1] == label})


def _results(prefix: str, total: PRFScore, per_type: Dict[str, PRFScore]) -> Dict[str, object]:
    if not len(total):
        return {f"{prefix}_p": None, f"{prefix}_r": None, f"{prefix}_f": None, f"{prefix}_per_type": None}
    return {
        f"{prefix}_p": total.precision,
        f"{prefix}_r": total.recall,
        f"{prefix}_f": total.fscore,
        f"{prefix}_per_type": {label: prf.to_dict() for label, prf in sorted(per_type.items())},
    }


def score_relations(examples: Iterable[Example], *, threshold: float = 0.0, **kwargs) -> Dict[str, object]:
    """Micro and per-label P/R/F of mention- and concept-level relations.

    Args:
        examples: predicted docs (with the relation store filled) and gold references.
        threshold: predictions scoring below it are ignored (the pipe passes its own threshold).
        **kwargs: other settings of the pipe, ignored.
    Returns:
        ``rel_mention_p/r/f``, ``rel_mention_per_type``, ``rel_concept_p/r/f``, ``rel_concept_per_type`` and
        the same for ``rel_concept_oracle``; a level without any gold or predicted relation scores ``None``.
    """
    scores = {"rel_mention": PRFScore(), "rel_concept": PRFScore(), "rel_concept_oracle": PRFScore()}
    per_type: Dict[str, Dict[str, PRFScore]] = {key: defaultdict(PRFScore) for key in scores}
    for eg in examples:
        gold = set(get_concept_relations(eg.reference))
        found = {
            "rel_mention": (_mention_keys(eg.predicted, threshold), _mention_keys(eg.reference, 0.0)),
            "rel_concept": (predicted_concept_keys(eg.predicted, eg.reference, threshold), gold),
            "rel_concept_oracle": (predicted_concept_keys(eg.predicted, eg.reference, threshold, oracle=True), gold),
        }
        for key, (cand, truth) in found.items():
            _add(scores[key], per_type[key], cand, truth)
    results: Dict[str, object] = {}
    for key, total in scores.items():
        results.update(_results(key, total, per_type[key]))
    return results


@registry.scorers("spacy_biobert.rel_scorer.v1")
def make_rel_scorer(threshold: Optional[float] = None) -> Callable[..., Dict[str, object]]:
    """The relation scorer; ``threshold`` (if set) overrides the pipe's."""

    def scorer(examples: Iterable[Example], **kwargs) -> Dict[str, object]:
        if threshold is not None:
            kwargs["threshold"] = threshold
        return score_relations(examples, **kwargs)

    return scorer
