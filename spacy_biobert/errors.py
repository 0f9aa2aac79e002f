"""Errors shared across the package's input formats."""
from typing import Optional, Union


class FileFormatError(ValueError):
    """Malformed input in a file. The message starts with ``source:where`` (a line number or a record name)."""

    def __init__(self, source: str, where: Optional[Union[int, str]], problem: str):
        place = f"{source}:{where}" if where is not None else source
        super().__init__(f"{place}: {problem}")
        self.source, self.where, self.problem = source, where, problem
