"""``spacy biobert kb build OUTPUT [--corpus F]... [--mesh] [--tsv F]... [--jsonl F]... [--mesh-xml F]...`` and
``spacy biobert kb dense OUTPUT KB [--corpus F]... [--encoder NAME] [--epochs N]``.

``build`` makes one knowledge base for ``biobert_linker`` from any mix of sources (merged: see
:mod:`spacy_biobert.kb.base`) and writes it to the folder ``OUTPUT``. The options are the rows of
:data:`spacy_biobert.kb.build.KB_SOURCES`: a file source is a repeatable ``--NAME FILE``, a packaged vocabulary a
flag ``--NAME``.

``dense`` makes the linker's name encoder for a KB (:mod:`spacy_biobert.kb.dense`): the encoder fine-tuned on the
gold mentions of the corpora (each paired with the other names of its concept in the KB) and the vectors of the
KB's names, written to the folder ``OUTPUT`` (``[initialize.components.biobert_linker] dense_path``).
"""
import inspect
import time
from pathlib import Path
from typing import List

import typer
from wasabi import msg

from ..corpus import CorpusFormatError
from ..kb import KBFormatError
from ..kb.annotated import corpus_annotations
from ..kb.base import DATA_FILE, META_FILE, KnowledgeBase
from ..kb.build import KB_SOURCES, build_kb, source_files
from ..kb.dense import DENSE_FILES, build_dense_names
from ..models.encoder import EMBEDDED_ENCODER, EncoderNotFoundError, resolve_encoder_name
from ..kb.normalize import Normalizer
from ..pipeline.linker import DEFAULTS
from ..output.paths import atomic_folder
from ._paths import refuse_overwriting_or_exit, refuse_replacing_or_exit

#: The files of every KB folder (``KnowledgeBase.to_disk``): an output folder holding them may be replaced.
KB_FILES = (DATA_FILE, META_FILE)
kb_app = typer.Typer(help="Knowledge bases for the biobert_linker component.", no_args_is_help=True)


def folder_size(folder: Path) -> int:
    """Total size in bytes of the files in ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _parameter(name: str, files: bool, help: str) -> inspect.Parameter:
    """The command-line option of one KB source (its keyword: the source name with ``_`` for ``-``)."""
    option = f"--{name}"
    default = (typer.Option([], option, exists=True, dir_okay=False, help=help) if files
               else typer.Option(False, option, help=help))
    return inspect.Parameter(name.replace("-", "_"), inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=List[Path] if files else bool)


def kb_build_command(output: Path, **options) -> None:
    """Build a knowledge base for biobert_linker from corpora, MeSH and vocabulary files (repeatable options)."""
    chosen = {source.name: options[source.name.replace("-", "_")] for source in KB_SOURCES}
    if not any(chosen.values()):
        msg.fail(f"No source given: use {', '.join('--' + source.name for source in KB_SOURCES)}.", exits=1)
    refuse_overwriting_or_exit([output], source_files(chosen))
    refuse_replacing_or_exit(output, KB_FILES)
    start = time.perf_counter()
    try:
        kb = build_kb(chosen)
    except (KBFormatError, CorpusFormatError, ImportError) as err:
        msg.fail(str(err), exits=1)
    with atomic_folder(output, KB_FILES) as partial:
        kb.to_disk(partial)
    meta = kb.meta()
    msg.good(f"Wrote {meta['concepts']} concepts, {meta['names']} names to {output} "
             f"({folder_size(output) / 1e6:.1f} MB, {time.perf_counter() - start:.1f} s)")
    msg.table([(f"concepts: {label}", n) for label, n in meta["per_label"].items()]
              + [("ids with conflicting labels (kept both)", meta["conflicting_ids"])], divider=True)


kb_build_command.__signature__ = inspect.Signature([
    inspect.Parameter("output", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Path, default=typer.Argument(
        ..., help="Folder to write the knowledge base to (created if missing).")),
    *(_parameter(source.name, source.files, source.help) for source in KB_SOURCES),
])
kb_app.command("build")(kb_build_command)


@kb_app.command("dense")
def kb_dense_command(
    output: Path = typer.Argument(..., help="Folder to write the encoder and the name vectors to (created if missing)."),
    kb_path: Path = typer.Argument(..., exists=True, file_okay=False, help="The KB folder (spacy biobert kb build)."),
    corpus: List[Path] = typer.Option([], "--corpus", exists=True, dir_okay=False,
                                      help="Annotated corpus (.spacy or PubTator) to fine-tune on; none: as it is."),
    encoder: str = typer.Option(EMBEDDED_ENCODER, "--encoder", help="pkg:PACKAGE or a local checkpoint folder."),
    epochs: int = typer.Option(2, "--epochs", min=0, help="Passes over the (mention, name) pairs."),
    batch_size: int = typer.Option(64, "--batch-size", min=2, help="Pairs per batch (the in-batch negatives)."),
    learn_rate: float = typer.Option(2e-5, "--learn-rate", min=0.0),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Fine-tune the linker's name encoder on a corpus's gold mentions and encode a KB's names."""
    refuse_overwriting_or_exit([output], [kb_path, *corpus])
    refuse_replacing_or_exit(output, DENSE_FILES)
    start = time.perf_counter()
    try:
        kb = KnowledgeBase.from_disk(kb_path)
        folder = resolve_encoder_name(encoder)
        annotations = [a for path in corpus for a in corpus_annotations(path)]
    except (KBFormatError, CorpusFormatError, EncoderNotFoundError) as err:
        msg.fail(str(err), exits=1)
    normalizer = Normalizer(DEFAULTS["unicode"], DEFAULTS["punctuation"], DEFAULTS["plurals"])  # the linker's keys
    dense = build_dense_names(folder, kb, normalizer, annotations, epochs=epochs, batch_size=batch_size,
                              learn_rate=learn_rate, seed=seed, log=msg.text)
    with atomic_folder(output, DENSE_FILES) as partial:
        dense.to_disk(partial)
    msg.good(f"Wrote the encoder and {len(dense)} name vectors to {output} "
             f"({folder_size(output) / 1e6:.1f} MB, {time.perf_counter() - start:.1f} s)")
