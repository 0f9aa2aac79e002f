"""Checks every command makes of what it is given: a pipeline it can load, data it can read. Each refuses an input
it cannot use (wrong kind of file, empty file or folder) with exit code 1 and a message naming the path."""
from pathlib import Path
from typing import List, NoReturn, Optional

import spacy
from spacy.language import Language
from spacy.tokens import DocBin
from wasabi import msg

from ..pipeline.loading import load_pipeline


def fail(path: object, problem: str) -> NoReturn:
    """Print ``PATH: problem`` and exit with code 1."""
    msg.fail(f"{path}: {problem}", exits=1)
    raise SystemExit(1)  # msg.fail exits; this tells type checkers so


def check_pipeline(model: str) -> None:
    """Exit unless ``model`` is a pipeline folder (with ``config.cfg``) or an installed pipeline package."""
    path = Path(model)
    if path.exists():
        if not (path.is_dir() and (path / "config.cfg").is_file()):
            fail(model, "not a spaCy pipeline folder (no config.cfg): give a folder saved by `spacy train` or "
                        "nlp.to_disk, or an installed pipeline package")
    elif not spacy.util.is_package(model):
        fail(model, "no such pipeline folder, and no installed package of that name")


def load_or_exit(model: str, relation_threshold: Optional[float] = None) -> Language:
    """The pipeline ``model`` (:func:`spacy_biobert.pipeline.loading.load_pipeline`), or exit naming it (or the
    damaged file of its folder)."""
    check_pipeline(model)
    try:
        return load_pipeline(model, relation_threshold)
    except (OSError, ValueError, KeyError) as err:
        fail(model, f"cannot load the pipeline ({err})")


def check_docbins(path: Path) -> List[Path]:
    """The ``.spacy`` files of ``path`` (a file, or a folder holding them), each read once to check it.

    Exits naming the file if one is not a DocBin (e.g. a PubTator or BioC file: convert it first), or when there
    is no ``.spacy`` file or no document at all.
    """
    path = Path(path)
    if not path.exists():
        fail(path, "does not exist")
    files = sorted(path.rglob("*.spacy")) if path.is_dir() else [path]
    if not files:
        fail(path, "no .spacy file in this folder (make one with `spacy biobert convert`)")
    total = 0
    for file in files:
        if file.suffix != ".spacy":
            fail(file, "not a .spacy file (convert the corpus first: `spacy biobert convert`)")
        try:
            total += len(DocBin().from_disk(file))
        except (ValueError, OSError) as err:
            fail(file, f"not a spaCy DocBin ({str(err).splitlines()[0][:120]})")
    if not total:
        fail(path, "no document in it")
    return files
