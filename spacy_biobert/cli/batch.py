"""``spacy biobert annotate MODEL INPUT OUTPUT``: annotate a corpus into JSONL, BioC XML or PubTator records.

Formats follow the file suffixes (``.txt``/folder, ``.jsonl``, ``.pubtator``, ``.xml``) unless given. The run
streams (bounded memory), shows progress (documents/s and, where the input size is known, an ETA), resumes a
partly written JSONL/PubTator output, and names file and line of a bad input record -- or, with
``--skip-bad``, passes over it and lists every skip at the end. Records in = written + resumed + skipped.
"""
import sys
from pathlib import Path
from typing import Optional

import spacy
from tqdm import tqdm
from wasabi import msg

from ..batch.inputs import BadInput, guess_format, read_inputs
from ..batch.local import Summary, run_local
from ..batch.resume import done_ids
from ..corpus.builder import CorpusFormatError
from ..output.writers import WRITERS

OUTPUT_SUFFIXES = {".jsonl": "jsonl", ".pubtator": "pubtator", ".xml": "bioc"}


def output_format(path: Path, given: Optional[str]) -> str:
    """The output format: ``given``, else from the suffix of ``path``."""
    fmt = given or OUTPUT_SUFFIXES.get(path.suffix.lower())
    if fmt not in WRITERS:
        raise ValueError(f"{path}: unknown output format {fmt!r}; use .jsonl, .pubtator or .xml, or --output-format")
    return fmt


def count_inputs(path: Path, fmt: str) -> Optional[int]:
    """The number of input records when it is cheap to know (JSONL lines, text files), for the ETA."""
    if fmt == "text":
        return len(list(path.glob("*.txt"))) if path.is_dir() else 1
    if fmt == "jsonl":
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    return None


def print_summary(summary: Summary, output: Path, lossy: dict) -> None:
    """Counts of the run, every skipped record and what the output format could not hold."""
    msg.good(f"{summary.written} records written to {output} ({summary.resumed} already there, "
             f"{len(summary.skipped)} skipped, {summary.read} read)")
    for skip in summary.skipped:
        msg.warn(f"skipped {skip.where}: {skip.problem}")
    for what, n in sorted(lossy.items()):
        msg.warn(f"{output.suffix or 'output'} cannot hold: {what}: {n}")


def annotate_corpus(
    model: str,
    input_path: Path,
    output_path: Path,
    input_format: Optional[str] = None,
    out_format: Optional[str] = None,
    batch_size: int = 32,
    gpu_id: int = -1,
    skip_bad: bool = False,
    overwrite: bool = False,
) -> Summary:
    """Annotate ``input_path`` with ``model`` into ``output_path`` (the command's work; see the module docstring)."""
    in_fmt = input_format or guess_format(input_path)
    out_fmt = output_format(output_path, out_format)
    if overwrite and output_path.exists():
        output_path.unlink()
    done = done_ids(output_path, out_fmt)
    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    nlp = spacy.load(model)
    bar = tqdm(total=count_inputs(input_path, in_fmt), unit="doc", file=sys.stderr, mininterval=2.0,
               desc="annotate")
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with WRITERS[out_fmt](output_path, append=bool(done)) as writer:
        items = read_inputs(input_path, in_fmt, skip_bad=skip_bad)
        summary = run_local(nlp, items, writer, done, batch_size, on_record=lambda: bar.update(1))
    bar.close()
    print_summary(summary, output_path, dict(writer.lossy))
    return summary


def annotate_corpus_or_exit(model: str, input_path: Path, output_path: Path, **options) -> None:
    """:func:`annotate_corpus`, turning bad input into a one-line error and exit code 1."""
    try:
        summary = annotate_corpus(model, input_path, output_path, **options)
    except (BadInput, CorpusFormatError, ValueError, OSError) as err:
        msg.fail(str(err), exits=1)
    if not summary.accounted():
        msg.fail(f"{summary.read} records read but {summary.written + summary.resumed + len(summary.skipped)} "
                 "accounted for", exits=1)
