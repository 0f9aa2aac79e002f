"""Annotating a corpus into JSONL, BioC XML or PubTator records (``spacy biobert annotate MODEL INPUT OUTPUT``).

Input formats follow the file suffixes (``.txt``/folder, ``.jsonl``, ``.pubtator``, ``.xml``; any ``.gz`` too)
unless given (:mod:`spacy_biobert.corpus.documents` reads them). The run streams (bounded memory), shows progress
(documents/s and, where the input size is known, an ETA), resumes a partly written JSONL/PubTator output, and
names file and line of a bad input record -- or, with ``--skip-bad``, passes over it and lists every skip at the
end. Records in = written + resumed + skipped.
An output path that is an input file (or the model) is refused before anything is written, and the output is
written to ``OUTPUT.partial`` and renamed when complete (:mod:`spacy_biobert.batch.resume`).
"""
import sys
from pathlib import Path
from typing import Optional

import spacy
from tqdm import tqdm

from ..corpus.documents import guess_format, text_files
from ..corpus.files import binary_lines
from ..output.paths import refuse_overwriting
from ..output.writers import WRITERS
from ..pipeline.loading import load_pipeline
from .inputs import read_inputs
from .local import Summary, run_local
from .ray_backend import RayOptions, run_ray
from .resume import resumable_writer

OUTPUT_SUFFIXES = {writer.suffix: name for name, writer in WRITERS.items()}
#: Folder outputs of the Ray backend (written by the cluster): no suffix -> JSONL shards, .parquet -> Parquet.
SHARD_SUFFIXES = {"": "jsonl-shards", ".parquet": "parquet"}
BACKENDS = ("local", "ray")


def output_format(path: Path, given: Optional[str], backend: str = "local") -> str:
    """The output format: ``given``, else from the suffix of ``path`` (with Ray, a folder: shards)."""
    suffixes = {**OUTPUT_SUFFIXES, **(SHARD_SUFFIXES if backend == "ray" else {})}
    fmt = given or suffixes.get(path.suffix.lower())
    if fmt not in set(suffixes.values()):
        shards = ", a folder (JSONL shards) or .parquet folder" if backend == "ray" else ""
        raise ValueError(f"{path}: unknown output format {fmt!r}; use .jsonl, .pubtator or .xml{shards}, "
                         "or --output-format")
    return fmt


def resolve_input_format(path: Path, given: Optional[str], backend: str = "local") -> str:
    """The input format: ``given``, else from the suffix (with Ray: ``.parquet`` too, and a folder of JSONL shards)."""
    if given:
        return given
    if backend == "ray":
        if path.suffix.lower() == ".parquet" or (path.is_dir() and any(path.glob("*.parquet"))):
            return "parquet"
        if path.is_dir() and any(path.glob("*.jsonl*")) and not any(path.glob("*.txt")):
            return "jsonl"
    return guess_format(path)


def count_inputs(path: Path, fmt: str) -> Optional[int]:
    """The number of input records when it is cheap to know (JSONL lines, text files), for the ETA."""
    if fmt == "text":
        return len(text_files(path))
    if fmt == "jsonl":
        return sum(1 for _, line in binary_lines(path) if line.strip())
    return None


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
    backend: str = "local",
    ray_options: Optional[RayOptions] = None,
    relation_threshold: Optional[float] = None,
) -> Summary:
    """Annotate ``input_path`` with ``model`` into ``output_path`` (see the module docstring);
    ``relation_threshold``: every relation component's threshold instead of the pipeline's.

    Raises:
        BadInput, CorpusFormatError: a bad input record (without ``skip_bad``) or an unreadable input file.
        OutputOverwritesInput: an output that is an input file or the model.
        DamagedModelError: a file of the model folder missing or damaged (named).
        ValueError: an unknown backend or format, a batch size below 1.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    if batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1 (documents per nlp.pipe batch), got {batch_size}")
    in_fmt = resolve_input_format(input_path, input_format, backend)
    out_fmt = output_format(output_path, out_format, backend)
    refuse_overwriting([output_path], [input_path], "*.txt" if in_fmt == "text" else "**/*")  # and its .partial
    refuse_overwriting([output_path], [model])
    if backend == "ray":
        return annotate_on_ray(model, input_path, output_path, in_fmt, out_fmt, batch_size, gpu_id, skip_bad,
                               overwrite, ray_options or RayOptions(), relation_threshold)
    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    nlp = load_pipeline(model, relation_threshold, annotate_only=True)
    bar = tqdm(total=count_inputs(input_path, in_fmt), unit="doc", file=sys.stderr, mininterval=2.0,
               desc="annotate")
    with resumable_writer(output_path, out_fmt, overwrite) as (writer, done):
        items = read_inputs(input_path, in_fmt, skip_bad=skip_bad, refuse=writer.refusal)
        summary = run_local(nlp, items, writer, done, batch_size, on_record=lambda: bar.update(1))
    bar.close()
    summary.lossy = dict(writer.lossy)
    return summary


def annotate_on_ray(model: str, input_path: Path, output_path: Path, in_fmt: str, out_fmt: str, batch_size: int,
                    gpu_id: int, skip_bad: bool, overwrite: bool, options: RayOptions,
                    relation_threshold: Optional[float] = None) -> Summary:
    """:func:`annotate_corpus` with ``--backend ray`` (``--gpu-id`` >= 0: one GPU per actor unless set)."""
    if gpu_id >= 0 and not options.gpus_per_actor:
        options.gpus_per_actor = 1.0
    bar = tqdm(total=count_inputs(input_path, in_fmt) if input_path.is_file() or in_fmt == "text" else None,
               unit="doc", file=sys.stderr, mininterval=2.0, desc="annotate (ray)")
    summary, lossy = run_ray(model, input_path, output_path, in_fmt, out_fmt, options, batch_size, skip_bad,
                             overwrite, on_record=lambda: bar.update(1), relation_threshold=relation_threshold)
    bar.close()
    summary.lossy = dict(lossy)
    return summary
