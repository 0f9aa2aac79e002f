"""``spacy biobert calibrate``: tune a relation component's decision threshold (or an NER component's outside
weight) on dev data and save the pipeline.

The pipeline annotates the dev documents once with the component's threshold and title bonus at 0, so every
candidate pair is stored with its own score; :func:`spacy_biobert.scoring.rel_threshold.tune_title_bonus` then
picks the title bonus (added to the score of a pair of concepts both named in the title, see
:mod:`spacy_biobert.pipeline.rel_title`) and the threshold of the best concept-level CID F (ties: the smaller
bonus, the higher threshold). Both are set as every setting is (:func:`spacy_biobert.pipeline.settings.set_setting`:
the component and the pipeline config's ``components.<name>.threshold`` / ``title_bonus``, which ``spacy.load``
uses). The weights stay the same.

When the component is a ``biobert_ner``, its ``outside_weight`` (the factor of the ``O`` tag's probability before
decoding) is tuned instead, on dev entity F
(:func:`spacy_biobert.scoring.ner_calibration.tune_outside_weight`), and saved the same way
(``components.<name>.outside_weight``).

``--kb`` links with another knowledge base while tuning: a pipeline whose KB holds the dev mentions would link
dev better than it links unseen text, so give it the KB built without them (``spacy biobert kb build`` from the
training corpus); the saved copy keeps the pipeline's own KB. The copy's ``meta["calibration"][component]``
records the choice (threshold, dev documents and path, entities, dev P/R/F).
"""
import contextlib
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Optional, Sequence

import typer
from spacy.cli._util import setup_gpu
from spacy.language import Language
from spacy.training import Example
from wasabi import msg

from ..kb import KBFormatError, KnowledgeBase
from ..pipeline.linker import BioBertLinker
from ..pipeline.rel import BioBertRel
from ..pipeline.settings import set_setting
from ..relations import get_concept_relations
from ..scoring.ner_calibration import DEFAULT_OUTSIDE_WEIGHTS, tune_outside_weight
from ..scoring.rel_threshold import concept_prf, tune_title_bonus, with_title_bonus
from ._checks import check_docbins, load_or_exit
from ._paths import (PIPELINE_FILES, recorded_path, refuse_overwriting_or_exit, refuse_replacing_or_exit,
                     save_pipeline)
from .evaluate import load_examples


class NothingToTune(ValueError):
    """The pipeline scored no candidate pair on the dev documents: no threshold can be chosen."""


class Calibration(NamedTuple):
    """What :func:`calibrate` found: the chosen threshold and the dev scores at it and at the previous one."""

    threshold: float
    scores: Dict[str, float]
    previous: float
    previous_scores: Dict[str, float]
    n_docs: int
    title_bonus: float = 0.0
    previous_title_bonus: float = 0.0


class NerCalibration(NamedTuple):
    """What :func:`calibrate_ner` found: the chosen outside weight, the dev entity scores at it and at 1.0."""

    weight: float
    scores: Dict[str, float]
    baseline_scores: Dict[str, float]


def is_ner_component(nlp: Language, component: str) -> bool:
    """Whether ``nlp`` has a component ``component`` made by the ``biobert_ner`` factory."""
    return component in nlp.pipe_names and nlp.get_pipe_meta(component).factory == "biobert_ner"


def relation_pipe(nlp: Language, component: str) -> BioBertRel:
    """The concept-level ``biobert_rel`` component ``component`` of ``nlp``.

    Raises:
        ValueError: naming the problem, if there is no such component, it is no ``biobert_rel`` or it decides
            mention pairs (calibration scores concept relations).
    """
    if component not in nlp.pipe_names:
        raise ValueError(f"no component {component!r} in the pipeline; its components: {', '.join(nlp.pipe_names)}")
    pipe = nlp.get_pipe(component)
    if not isinstance(pipe, BioBertRel):
        raise ValueError(f"component {component!r} is a {type(pipe).__name__}, not a biobert_rel relation head")
    if pipe.level != "concept":
        raise ValueError(f"component {component!r} has level {pipe.level!r}: calibrate tunes the threshold "
                         "of concept-level relations only")
    return pipe


def read_examples(nlp: Language, dev_path: Path, gold_entities: bool, limit: int) -> List[Example]:
    """The dev examples (see :func:`~.evaluate.load_examples`); raises ValueError if the data is missing."""
    if not Path(dev_path).exists():
        raise ValueError(f"dev data {dev_path} does not exist")
    return load_examples(nlp, Path(dev_path), gold_entities, limit)


def read_dev(nlp: Language, dev_path: Path, gold_entities: bool, limit: int) -> List[Example]:
    """The dev examples; raises ValueError if the data is missing or holds no gold concept relation."""
    examples = read_examples(nlp, dev_path, gold_entities, limit)
    if not any(get_concept_relations(eg.reference) for eg in examples):
        raise ValueError(f"no gold concept relation in the {len(examples)} dev documents of {dev_path}: the "
                         "threshold can only be tuned on data with relations (from `spacy biobert convert`)")
    return examples


def calibrate_ner(
    nlp: Language,
    dev_path: Path,
    *,
    component: str = "biobert_ner",
    limit: int = 0,
    batch_size: Optional[int] = None,
    weights: Optional[Sequence[float]] = None,
) -> NerCalibration:
    """Tune the ``biobert_ner`` component ``component``'s outside weight on ``dev_path`` and set it in ``nlp``.

    Args:
        nlp: the trained pipeline.
        dev_path: a ``.spacy`` file (or folder of them) with gold entities.
        component: the NER component.
        limit: use the first N dev documents (0: all).
        batch_size: batch size (default: the pipeline's).
        weights: the weights to try (default :data:`DEFAULT_OUTSIDE_WEIGHTS`); 1.0 is always among them.
    Returns:
        The chosen weight, the dev ``{"p", "r", "f"}`` of the entities at it and at 1.0.
    Raises:
        ValueError: naming the problem: no such NER component, missing dev data or no gold entity in it.
    """
    if not is_ner_component(nlp, component):
        raise ValueError(f"component {component!r} is no biobert_ner component of the pipeline; its components: "
                         f"{', '.join(nlp.pipe_names)}")
    examples = read_examples(nlp, dev_path, False, limit)
    grid = [1.0, *(DEFAULT_OUTSIDE_WEIGHTS if weights is None else weights)]
    weight, scores, results = tune_outside_weight(nlp, examples, component, grid, batch_size)
    set_setting(nlp, component, "outside_weight", weight)
    return NerCalibration(weight, scores, results[1.0])


def calibrate(
    nlp: Language,
    dev_path: Path,
    *,
    component: str = "biobert_rel",
    gold_entities: bool = False,
    limit: int = 0,
    batch_size: Optional[int] = None,
    thresholds: Optional[Sequence[float]] = None,
    title_bonuses: Optional[Sequence[float]] = None,
) -> Calibration:
    """Tune ``component``'s threshold on ``dev_path`` and set it in ``nlp``.

    Args:
        nlp: the trained pipeline.
        dev_path: a ``.spacy`` file (or folder of them) with gold relations.
        component: the relation component.
        gold_entities: start from the gold entities (a pipeline without NER needs them).
        limit: use the first N dev documents (0: all).
        batch_size: ``nlp.pipe`` batch size (default: the pipeline's).
        thresholds: the thresholds to try (default: 0.05, 0.10, ..., 0.95, 0.97, 0.99).
        title_bonuses: the component's ``title_bonus`` values tried with them (default
            :data:`~spacy_biobert.scoring.rel_threshold.DEFAULT_TITLE_BONUSES` at concept level; a mention-level
            component keeps its own).
    Returns:
        The chosen threshold and dev ``{"p", "r", "f"}`` at it, the component's previous threshold and the
        scores at that.
    Raises:
        ValueError: naming the problem (see :func:`relation_pipe`, :func:`read_dev`), or if no candidate pair
            was scored on dev (no entities: end to end without NER, or without ``gold_entities``).
    """
    pipe = relation_pipe(nlp, component)
    examples = read_dev(nlp, dev_path, gold_entities, limit)
    previous, previous_bonus = pipe.threshold, pipe.title_bonus
    if pipe.level != "concept":
        title_bonuses = (previous_bonus,)
    with pipe.temporarily(threshold=0.0, title_bonus=0.0):  # store every candidate with its own score
        docs = nlp.pipe((eg.predicted for eg in examples), batch_size=batch_size or nlp.batch_size)
        examples = [Example(doc, eg.reference) for doc, eg in zip(docs, examples)]
    if not any(get_concept_relations(eg.predicted) for eg in examples):
        raise NothingToTune(f"{component} scored no candidate pair on the {len(examples)} dev documents: they have "
                            "no entities of its type pairs (a pipeline without NER needs --gold-entities)")
    bonus, threshold, scores = tune_title_bonus(examples, title_bonuses, thresholds)
    set_setting(nlp, component, "threshold", threshold)
    set_setting(nlp, component, "title_bonus", bonus)
    return Calibration(threshold, scores, previous, concept_prf(with_title_bonus(examples, previous_bonus), previous),
                       len(examples), bonus, previous_bonus)


def _prf(scores: Dict[str, float]) -> str:
    return " / ".join(f"{100 * scores[k]:.2f}" for k in ("p", "r", "f"))


@contextlib.contextmanager
def linking_with(nlp: Language, kb_path: Optional[Path]) -> Iterator[None]:
    """Within the block every ``biobert_linker`` of ``nlp`` links with the KB at ``kb_path`` (None: unchanged).

    Raises:
        ValueError: if ``kb_path`` is given and ``nlp`` has no linker.
    """
    linkers = [pipe for _, pipe in nlp.pipeline if isinstance(pipe, BioBertLinker)]
    if kb_path is None:
        yield
        return
    if not linkers:
        raise ValueError(f"--kb {kb_path}: the pipeline has no biobert_linker (components: {', '.join(nlp.pipe_names)})")
    kb, saved = KnowledgeBase.from_disk(kb_path), [linker.kb for linker in linkers]
    for linker in linkers:
        linker.set_kb(kb)
    try:
        yield
    finally:
        for linker, own in zip(linkers, saved):
            linker.set_kb(own)


def calibrate_command(
    model: str = typer.Argument(..., help="Trained pipeline: package name or folder."),
    dev_path: Path = typer.Argument(..., help="Dev data with gold relations: .spacy file (or folder) from `convert`."),
    output: Path = typer.Argument(..., help="Folder for the calibrated copy."),
    gold_entities: bool = typer.Option(False, "--gold-entities/--no-gold-entities",
                                       help="Start from the gold entities (needed without NER; an NER "
                                            "component of the pipeline replaces them)."),
    component: str = typer.Option("biobert_rel", "--component", "-c",
                                  help="The component: a biobert_rel (tunes its threshold) or a biobert_ner "
                                       "(tunes its outside_weight on dev entity F)."),
    limit: int = typer.Option(0, "--limit", help="Use the first N dev documents (0: all)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="nlp.pipe batch size."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU."),
    kb: Optional[Path] = typer.Option(None, "--kb", exists=True, file_okay=False,
                                      help="Link with this KB folder while tuning (one without the dev mentions, "
                                           "so dev linking is not optimistic); the copy keeps its own KB."),
) -> None:
    """Copy MODEL to OUTPUT with the relation threshold of the best concept-level F on DEV_PATH (with a
    biobert_ner --component: the NER outside weight of the best entity F).

    Pick the data: tune on dev, never on test. The copy loads with spacy.load and keeps the threshold (weight).
    """
    refuse_overwriting_or_exit([output], [model])
    refuse_overwriting_or_exit([output], [dev_path], "**/*.spacy")
    refuse_replacing_or_exit(output, PIPELINE_FILES)
    setup_gpu(gpu_id)
    nlp = load_or_exit(model)
    check_docbins(dev_path)
    if is_ner_component(nlp, component):
        _calibrate_ner_command(nlp, dev_path, output, component, gold_entities, limit, batch_size)
        return
    how = "gold entities" if gold_entities else "end to end"
    try:
        with linking_with(nlp, kb):
            found = calibrate(nlp, dev_path, component=component, gold_entities=gold_entities, limit=limit,
                              batch_size=batch_size)
    except NothingToTune as err:  # a model that finds nothing yet (a few steps): saved unchanged, said so
        kept = relation_pipe(nlp, component).threshold
        nlp.meta.setdefault("calibration", {})[component] = {
            "threshold": kept, "tuned": False, "reason": str(err), "entities": how, "dev_path": recorded_path(dev_path)}
        save_pipeline(nlp, output)
        msg.warn(f"Not tuned: {err}. Saved the pipeline unchanged (threshold {kept}) to {output}")
        return
    except (ValueError, KBFormatError) as err:
        msg.fail(str(err), exits=1)
    nlp.meta.setdefault("calibration", {})[component] = {"tuned": True,
        "threshold": found.threshold, "title_bonus": found.title_bonus, "dev_docs": found.n_docs, "entities": how,
        "dev_path": recorded_path(dev_path),
        **{f"dev_{k}": found.scores[k] for k in ("p", "r", "f")}}
    save_pipeline(nlp, output)
    msg.text(f"dev concept-level P / R / F at the previous threshold {found.previous} (title bonus "
             f"{found.previous_title_bonus}): {_prf(found.previous_scores)}")
    msg.good(f"{component} threshold = {found.threshold}, title bonus = {found.title_bonus}: dev concept-level "
             f"P / R / F = {_prf(found.scores)} "
             f"({found.n_docs} dev documents, {how})")
    msg.good(f"Saved the calibrated pipeline to {output}")


def _calibrate_ner_command(nlp: Language, dev_path: Path, output: Path, component: str, gold_entities: bool,
                           limit: int, batch_size: Optional[int]) -> None:
    """The NER branch of :func:`calibrate_command`: tune, save, print the dev scores at 1.0 and at the weight."""
    if gold_entities:
        msg.fail(f"--gold-entities makes no sense for the NER component {component!r}: its outside weight is tuned "
                 "on the entities it predicts (drop --gold-entities)", exits=1)
    try:
        found = calibrate_ner(nlp, dev_path, component=component, limit=limit, batch_size=batch_size)
    except ValueError as err:
        msg.fail(str(err), exits=1)
    save_pipeline(nlp, output)
    msg.text(f"dev entity P / R / F at outside weight 1.0: {_prf(found.baseline_scores)}")
    msg.good(f"{component} outside_weight = {found.weight}: dev entity P / R / F = {_prf(found.scores)}")
    msg.good(f"Saved the calibrated pipeline to {output}")
