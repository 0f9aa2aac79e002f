"""The commands' check that outputs never overwrite inputs (:mod:`spacy_biobert.output.paths`), as a one-line error."""
from pathlib import Path
from typing import Iterable, Optional, Union

from wasabi import msg

from ..output.paths import OutputOverwritesInput, refuse_overwriting

PathLike = Union[str, Path]


def refuse_overwriting_or_exit(
    outputs: Iterable[Optional[PathLike]], inputs: Iterable[Optional[PathLike]], pattern: str = "**/*"
) -> None:
    """:func:`~spacy_biobert.output.paths.refuse_overwriting`, turning a refusal into a one-line error and exit
    code 1."""
    try:
        refuse_overwriting(outputs, inputs, pattern)
    except OutputOverwritesInput as err:
        msg.fail(str(err), exits=1)
