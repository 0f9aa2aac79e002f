"""Outputs never overwrite inputs: every command checks its output paths against what it reads before it opens
anything for writing.

An output is refused when it is an input file (the same path, a symlink to it or a hard link: the same inode)
or a folder holding one (a command writing a pipeline or a KB into that folder could overwrite it). An input
folder stands for the files of it that the command reads (``pattern``: by default every file under it).

A file output is written whole or not at all (:func:`atomic_output`): to ``OUTPUT.partial`` first, renamed to
``OUTPUT`` once complete; ``annotate`` resumes a partial output (:mod:`spacy_biobert.batch.resume`).
"""
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterable, Iterator, Optional, Tuple, Union

PathLike = Union[str, Path]
#: Suffix of an output being written (:func:`partial_path`).
PARTIAL_SUFFIX = ".partial"


class OutputOverwritesInput(ValueError):
    """An output path that would overwrite an input file; the message names both."""


def _input_files(inputs: Iterable[Optional[PathLike]], pattern: str) -> Dict[Tuple[int, int], Path]:
    """The existing input files by (device, inode); folders expanded to their files matching ``pattern``."""
    files: Dict[Tuple[int, int], Path] = {}
    for given in inputs:
        if given is None or not Path(given).exists():  # e.g. a model given as a package name
            continue
        path = Path(given)
        for file in (p for p in path.glob(pattern) if p.is_file()) if path.is_dir() else [path]:
            stat = file.stat()
            files.setdefault((stat.st_dev, stat.st_ino), file)
    return files


def refuse_overwriting(
    outputs: Iterable[Optional[PathLike]], inputs: Iterable[Optional[PathLike]], pattern: str = "**/*"
) -> None:
    """Raise :class:`OutputOverwritesInput` if an output is one of the input files or a folder holding one.

    Args:
        outputs: the paths the command will write (files or folders; None: not written).
        inputs: the paths it reads (files or folders; None or a path that does not exist: ignored).
        pattern: the files of an input folder that the command reads (a glob relative to the folder).
    """
    files = _input_files(inputs, pattern)
    if not files:
        return
    resolved = None
    for given in outputs:
        if given is None:
            continue
        out = Path(given)
        if out.exists():
            stat = out.stat()
            same = files.get((stat.st_dev, stat.st_ino))
            if same is not None:
                raise OutputOverwritesInput(f"{out} is the input file {same}: writing it would destroy the input; "
                                            "choose another output path")
        if out.is_dir():
            resolved = resolved or {file.resolve(): file for file in files.values()}
            folder = out.resolve()
            held = next((file for real, file in resolved.items() if real.is_relative_to(folder)), None)
            if held is not None:
                raise OutputOverwritesInput(f"{out} is a folder holding the input file {held}: writing into it "
                                            "could destroy the input; choose another output folder")


def partial_path(path: PathLike) -> Path:
    """Where a file output is written until it is complete (beside it)."""
    path = Path(path).absolute()  # "." has no name
    return path.with_name(path.name + PARTIAL_SUFFIX)


@contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """The path to write ``path``'s content to: renamed to ``path`` when the block completes, removed if it fails,
    so ``path`` is never left half-written."""
    partial = partial_path(Path(path))
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
