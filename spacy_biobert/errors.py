"""Errors shared across the package's input formats, and the check of text that is not valid Unicode."""
import re
from typing import Optional, Union


class FileFormatError(ValueError):
    """Malformed input in a file. The message starts with ``source:where`` (a line number or a record name)."""

    def __init__(self, source: str, where: Optional[Union[int, str]], problem: str):
        place = f"{source}:{where}" if where is not None else source
        super().__init__(f"{place}: {problem}")
        self.source, self.where, self.problem = source, where, problem


#: A UTF-16 surrogate: in a Python string only alone (a JSON escape such as "\ud83d" without its pair).
SURROGATE = re.compile("[\ud800-\udfff]")


def unicode_problem(text: str) -> Optional[str]:
    """Why ``text`` is not valid Unicode (a lone surrogate, which no UTF-8 file and no pipeline can hold), or None."""
    found = SURROGATE.search(text)
    if found is None:
        return None
    return f"lone surrogate {found.group()!r} at character {found.start()} (an escape that is not valid Unicode)"
