"""Choosing the ``biobert_ner`` component's ``outside_weight`` on development data (entity F).

The component multiplies the ``O`` tag's probability by its ``outside_weight`` before its Viterbi decoding
(below 1 favours entities: recall over precision). The sweep runs the model once: the components before the
NER component annotate the dev documents, the component's ``predict`` gives the tag probabilities, and for each
weight only ``set_annotations`` (the decoding) runs again. This module works on the component through its
public methods and attributes (``predict``, ``set_annotations``, ``outside_weight``) and never imports the pipeline package.
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch

#: The weights tried by default, from 1.0 (the decoding as trained) down.
DEFAULT_OUTSIDE_WEIGHTS: Tuple[float, ...] = (1.0, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1, 0.05, 0.02, 0.01)
#: ``{"p", "r", "f"}`` of the entities.
PRF = Dict[str, float]


def _weights(weights: Optional[Sequence[float]]) -> List[float]:
    """The distinct weights to try, largest first; raises ValueError if there is none or one is not > 0."""
    candidates = sorted({float(w) for w in (DEFAULT_OUTSIDE_WEIGHTS if weights is None else weights)}, reverse=True)
    if not candidates:
        raise ValueError("tune_outside_weight: no weight to try (weights is empty)")
    if candidates[-1] <= 0:
        raise ValueError(f"tune_outside_weight: every weight must be > 0, got {candidates[-1]!r}")
    return candidates


def _check_inputs(nlp: Language, examples: Sequence[Example], component: str) -> None:
    """Raise ValueError naming the problem if ``component`` is missing or the examples hold no gold entity."""
    if component not in nlp.pipe_names:
        raise ValueError(f"tune_outside_weight: no component {component!r} in the pipeline; its components: "
                         f"{', '.join(nlp.pipe_names)}")
    if not examples:
        raise ValueError("tune_outside_weight: no examples to tune on")
    if not any(len(eg.reference.ents) for eg in examples):
        raise ValueError(f"tune_outside_weight: no gold entity in the {len(examples)} examples: the outside "
                         "weight cannot be tuned on data without entities")


def _upstream_docs(nlp: Language, examples: Sequence[Example], component: str, batch_size: int) -> List[Doc]:
    """The examples' predicted docs annotated by the components before ``component`` (copies)."""
    before = nlp.pipe_names[: nlp.pipe_names.index(component)]
    docs = (eg.predicted.copy() for eg in examples)
    with nlp.select_pipes(enable=before):
        return list(nlp.pipe(docs, batch_size=batch_size))


def _entity_prf(pipe: Any, batches: List[Tuple[List[Doc], Any]], examples: Sequence[Example]) -> PRF:
    """Decode every batch with the pipe's current cfg and score the entities against the references."""
    for docs, probs in batches:
        pipe.set_annotations(docs, probs)
    docs = [doc for batch, _ in batches for doc in batch]
    scores = Scorer.score_spans([Example(doc, eg.reference) for doc, eg in zip(docs, examples)], "ents")
    return {"p": float(scores["ents_p"] or 0.0), "r": float(scores["ents_r"] or 0.0),
            "f": float(scores["ents_f"] or 0.0)}


def tune_outside_weight(
    nlp: Language,
    examples: Sequence[Example],
    component: str = "biobert_ner",
    weights: Optional[Sequence[float]] = None,
    batch_size: Optional[int] = None,
) -> Tuple[float, PRF, Dict[float, PRF]]:
    """The ``outside_weight`` of the best entity F on ``examples``; ties go to the weight closest to 1.0.

    The component's ``outside_weight`` is left at the chosen weight (the examples are not modified); to save it
    with the pipeline, set it with :func:`spacy_biobert.pipeline.settings.set_setting`.

    Args:
        nlp: the pipeline holding the NER component.
        examples: dev examples: predicted docs (raw, as ``nlp`` would get them) and gold references.
        component: the name of the ``biobert_ner`` component.
        weights: the weights to try (default :data:`DEFAULT_OUTSIDE_WEIGHTS`).
        batch_size: batch size of the upstream components and of ``predict`` (default: the pipeline's).
    Returns:
        ``(best weight, its {"p", "r", "f"}, {weight: {"p", "r", "f"}} for every weight tried)``.
    Raises:
        ValueError: if the component is missing, there are no examples, the references hold no entity, or
            no weight (or one <= 0) is given.
    """
    examples = list(examples)
    _check_inputs(nlp, examples, component)
    candidates = _weights(weights)
    size = batch_size or nlp.batch_size
    pipe = nlp.get_pipe(component)
    docs = _upstream_docs(nlp, examples, component, size)
    batches = [(batch, pipe.predict(batch)) for batch in minibatch(docs, size)]
    results: Dict[float, PRF] = {}
    previous = pipe.outside_weight
    try:
        for weight in candidates:
            pipe.outside_weight = weight
            results[weight] = _entity_prf(pipe, batches, examples)
    except BaseException:
        pipe.outside_weight = previous  # a failed sweep leaves the component as it found it
        raise
    best = max(candidates, key=lambda w: (results[w]["f"], -abs(w - 1.0), w))  # ties: closest to 1.0, then larger
    pipe.outside_weight = best
    return best, results[best], results
