"""Outputs never overwrite inputs: every command checks its output paths against what it reads before it opens
anything for writing.

An output is refused when it is an input file (the same path, a symlink to it or a hard link: the same inode)
or a folder holding one (a command writing a pipeline or a KB into that folder could overwrite it). An input
folder stands for the files of it that the command reads (``pattern``: by default every file under it).

The paths written beside an output (``OUTPUT.partial``, ``OUTPUT.replaced``: :func:`sibling_paths`) are checked
as outputs too.

An output is written whole or not at all, so a run killed at any moment leaves the previous ``OUTPUT`` (or none)
or the complete new one, never a half-written one that looks finished:

* a file (:func:`atomic_output`): to ``OUTPUT.partial`` first, renamed to ``OUTPUT`` once complete; ``annotate``
  resumes a partial output (:mod:`spacy_biobert.batch.resume`);
* a folder -- a pipeline, a KB, an encoder (:func:`atomic_folder`): to the folder ``OUTPUT.partial`` first, moved
  to ``OUTPUT`` once complete. An existing ``OUTPUT`` is replaced only then, and only if it is empty or an earlier
  output of the same kind (it holds the kind's files, e.g. ``config.cfg`` and ``meta.json`` for a pipeline):
  a folder of other files is refused (:func:`refuse_replacing`), never deleted. A stale ``OUTPUT.partial`` or
  ``OUTPUT.replaced`` left by a killed run is removed by the next run, but only if it is one (marked by
  :data:`PARTIAL_MARK`, empty, or an output of the kind).
"""
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterable, Iterator, Optional, Sequence, Tuple, Union

PathLike = Union[str, Path]
#: Suffix of an output being written (:func:`partial_path`).
PARTIAL_SUFFIX = ".partial"
#: Suffix of the earlier output folder while a new one takes its place (:func:`atomic_folder`).
REPLACED_SUFFIX = ".replaced"
#: The file that marks a folder as ours to delete: a partial output, or an earlier output being removed.
PARTIAL_MARK = ".spacy-biobert-partial"


class OutputOverwritesInput(ValueError):
    """An output path that would overwrite an input file; the message names both."""


class OutputNotReplaceable(ValueError):
    """An output folder (or a folder beside it) that holds something else than an earlier output of the command;
    the message names it and what it lacks."""


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
    for out in (path for given in outputs if given is not None for path in (Path(given), *sibling_paths(given))):
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


def _beside(path: PathLike, suffix: str) -> Path:
    path = Path(path).absolute()  # "." has no name
    return path.with_name(path.name + suffix)


def partial_path(path: PathLike) -> Path:
    """Where an output (file or folder) is written until it is complete (beside it)."""
    return _beside(path, PARTIAL_SUFFIX)


def sibling_paths(path: PathLike) -> Tuple[Path, Path]:
    """The paths written beside the output ``path``: the partial output and the earlier output being replaced."""
    return partial_path(path), _beside(path, REPLACED_SUFFIX)


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


def _replaceable(folder: Path, kind: Sequence[str]) -> Optional[str]:
    """Why the existing ``folder`` may not be replaced by an output holding the files ``kind``, or None."""
    if not folder.is_dir():
        return "not a folder"
    if not any(folder.iterdir()) or all((folder / name).is_file() for name in kind):
        return None
    missing = ", ".join(name for name in kind if not (folder / name).is_file())
    return f"a folder of other files (no {missing})"


def _ours(folder: Path, kind: Sequence[str]) -> bool:
    """Whether the folder beside an output is ours to delete: marked, empty or an output of the kind."""
    return (folder.is_dir() and not folder.is_symlink()
            and ((folder / PARTIAL_MARK).is_file() or _replaceable(folder, kind) is None))


def refuse_replacing(path: PathLike, kind: Sequence[str]) -> None:
    """Raise :class:`OutputNotReplaceable` if :func:`atomic_folder` may not write the folder ``path``.

    Args:
        path: the output folder: absent, empty or an earlier output of the kind (it holds the files ``kind``).
        kind: the files every output of the command holds (e.g. ``config.cfg``, ``meta.json``).
    Raises:
        OutputNotReplaceable: naming the folder, if ``path`` is something else, or a folder beside it
            (:func:`sibling_paths`) is not a stale partial or replaced output that a killed run left.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        problem = _replaceable(path, kind)
        if problem is not None:
            raise OutputNotReplaceable(f"{path} exists and is {problem}: it is no earlier output of this command, "
                                       "so it is left alone; choose another output folder or remove it")
    for beside in sibling_paths(path):
        if (beside.exists() or beside.is_symlink()) and not _ours(beside, kind):
            problem = "a symlink" if beside.is_symlink() else _replaceable(beside, kind)
            raise OutputNotReplaceable(f"{beside} exists and is {problem}, not a stale output of this command: "
                                       "it is left alone; remove it or choose another output folder")


def _remove(folder: Path) -> None:
    """Delete a folder of ours (:func:`_ours`), its mark last, so a kill mid-way leaves it recognisable."""
    if not folder.exists():
        return
    (folder / PARTIAL_MARK).touch()
    for child in folder.iterdir():
        if child.name != PARTIAL_MARK:
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    (folder / PARTIAL_MARK).unlink()
    folder.rmdir()


@contextmanager
def atomic_folder(path: PathLike, kind: Sequence[str]) -> Iterator[Path]:
    """The empty folder to write the output folder ``path`` into: moved to ``path`` when the block completes
    (replacing an earlier output there only then), removed if it fails; a kill at any moment leaves ``path``
    as it was (or absent, between the two renames of a replacement) or complete.

    Args:
        path: the output folder (see :func:`refuse_replacing`).
        kind: the files every output of the command holds.
    Raises:
        OutputNotReplaceable: see :func:`refuse_replacing`.
    """
    path = Path(path)
    refuse_replacing(path, kind)
    partial, replaced = sibling_paths(path)
    for stale in (partial, replaced):
        _remove(stale)
    partial.mkdir(parents=True)
    (partial / PARTIAL_MARK).touch()
    try:
        yield partial
        (partial / PARTIAL_MARK).unlink()
        if path.exists() or path.is_symlink():  # a symlink is replaced, its target left alone
            os.replace(path, replaced)
            try:
                os.replace(partial, path)
            except BaseException:
                os.replace(replaced, path)
                raise
            if replaced.is_symlink():
                replaced.unlink()
            else:
                _remove(replaced)
        else:
            os.replace(partial, path)
    finally:
        _remove(partial)
