"""The commands' checks that outputs never overwrite inputs nor replace a folder of other files, and the saving
of a pipeline folder whole or not at all (:mod:`spacy_biobert.output.paths`); refusals as a one-line error."""
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

from spacy.language import Language
from wasabi import msg

from ..output.paths import (
    OutputNotReplaceable,
    OutputOverwritesInput,
    atomic_folder,
    refuse_overwriting,
    refuse_replacing,
)

PathLike = Union[str, Path]
#: The files of every saved spaCy pipeline (``nlp.to_disk``): an output folder holding them may be replaced.
PIPELINE_FILES = ("config.cfg", "meta.json")


def recorded_path(path: PathLike) -> str:
    """``path`` as a pipeline's meta records it: relative to the working directory when it lies inside it, else its
    name, so a saved or packaged pipeline carries no machine path."""
    try:
        return str(Path(path).absolute().relative_to(Path.cwd()))
    except ValueError:
        return Path(path).name


def refuse_overwriting_or_exit(
    outputs: Iterable[Optional[PathLike]], inputs: Iterable[Optional[PathLike]], pattern: str = "**/*"
) -> None:
    """:func:`~spacy_biobert.output.paths.refuse_overwriting`, turning a refusal into a one-line error and exit
    code 1."""
    try:
        refuse_overwriting(outputs, inputs, pattern)
    except OutputOverwritesInput as err:
        msg.fail(str(err), exits=1)


def refuse_replacing_or_exit(output: PathLike, kind: Sequence[str]) -> None:
    """:func:`~spacy_biobert.output.paths.refuse_replacing` (before the work, not after it), turning a refusal
    into a one-line error and exit code 1."""
    try:
        refuse_replacing(output, kind)
    except OutputNotReplaceable as err:
        msg.fail(str(err), exits=1)


def save_pipeline(nlp: Language, output: PathLike) -> None:
    """Save ``nlp`` to the folder ``output`` whole or not at all (:func:`~spacy_biobert.output.paths.atomic_folder`)."""
    with atomic_folder(output, PIPELINE_FILES) as partial:
        nlp.to_disk(partial)
