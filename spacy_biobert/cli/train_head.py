"""``spacy biobert train-head``: train a pipeline's relation head on its frozen encoder's outputs, computed once
(:mod:`spacy_biobert.pipeline.rel_cached`), and save the pipeline with it.

The head's encoder stays as it is (a listener with ``grad_factor`` 0 on a shared transformer, as in
``configs/quick.cfg``, or the shipped head's own trained encoder, as in ``configs/e2e.cfg``): the encoders run once
over the training documents, then the head's MLP trains for many epochs on the tabulated pair features, at a
fraction of what as many ``spacy train`` steps cost. Everything else in the pipeline is unchanged.
``meta["head_training"][component]`` records what was done.
"""
import time
from pathlib import Path

import typer
from spacy.cli._util import setup_gpu
from wasabi import msg

from ..pipeline.rel_cached import ENTITY_SOURCES, fit_head, pair_table
from ._checks import check_docbins, load_or_exit
from ._paths import PIPELINE_FILES, refuse_overwriting_or_exit, refuse_replacing_or_exit, save_pipeline
from .calibrate import relation_pipe
from .evaluate import load_examples


def train_head_command(
    model: str = typer.Argument(..., help="Trained pipeline (folder or package) with an initialized relation head."),
    train_path: Path = typer.Argument(..., help="Training data with gold relations: .spacy file (or folder)."),
    output: Path = typer.Argument(..., help="Folder for the pipeline with the trained head."),
    component: str = typer.Option("biobert_rel", "--component", "-c", help="The relation head."),
    entities: str = typer.Option("gold", "--entities",
                                 help="gold: the gold entities and ids; predicted: those of the pipeline's "
                                      "components before the head (gold ids on an exact span match)."),
    epochs: int = typer.Option(30, "--epochs", help="Passes of the head over the cached training documents."),
    learn_rate: float = typer.Option(0.001, "--learn-rate", help="Adam learning rate of the head."),
    batch_docs: int = typer.Option(16, "--batch-docs", help="Documents per update."),
    limit: int = typer.Option(0, "--limit", help="Use the first N training documents (0: all)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the document order."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU."),
) -> None:
    """Copy MODEL to OUTPUT with its relation head trained on TRAIN_PATH from the encoder's cached outputs.

    Only the head's MLP learns: its encoder runs once, unchanged.
    """
    refuse_overwriting_or_exit([output], [model])
    refuse_overwriting_or_exit([output], [train_path], "**/*.spacy")
    refuse_replacing_or_exit(output, PIPELINE_FILES)
    if entities not in ENTITY_SOURCES:
        msg.fail(f"--entities must be one of {', '.join(ENTITY_SOURCES)}, not {entities!r}", exits=1)
    setup_gpu(gpu_id)
    nlp = load_or_exit(model)
    check_docbins(train_path)
    try:
        pipe = relation_pipe(nlp, component)
        start = time.perf_counter()
        examples = load_examples(nlp, train_path, entities == "gold", limit)
        table = pair_table(nlp, examples, component=component, entities=entities)
        cached = time.perf_counter() - start
        losses = fit_head(pipe, table, epochs=epochs, learn_rate=learn_rate, batch_docs=batch_docs, seed=seed)
    except ValueError as err:
        msg.fail(str(err), exits=1)
    fitted = time.perf_counter() - start - cached
    nlp.meta.setdefault("head_training", {})[component] = {
        "train_path": str(train_path), "docs": table.n_docs, "pairs": len(table.features),
        "positives": int(table.truths.sum()), "entities": entities, "epochs": epochs, "learn_rate": learn_rate,
        "batch_docs": batch_docs}
    save_pipeline(nlp, output)
    msg.text(f"encoder outputs of {table.n_docs} documents ({len(table.features)} candidate pairs, "
             f"{int(table.truths.sum())} positive) in {cached:.0f} s; {epochs} epochs in {fitted:.0f} s, "
             f"loss {losses[0]:.1f} -> {losses[-1]:.1f}" if losses else "no epoch")
    msg.good(f"Saved the pipeline with the trained {component} to {output}")
