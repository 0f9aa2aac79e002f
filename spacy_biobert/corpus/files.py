"""Reading an input file, gzip-compressed or not: one rule for every reader -- a name ending in ``.gz`` is read
decompressed (several gzip members in a row are one stream, zero padding after the last is ignored).

A file that cannot be opened, or compressed data that is corrupt or cut short, raises :class:`CorpusFormatError`
naming the file (and, reading by lines, the line reached).
"""
import gzip
import zlib
from pathlib import Path
from typing import BinaryIO, Iterator, Tuple, Union

from .builder import CorpusFormatError

PathLike = Union[str, Path]
#: What a damaged gzip stream raises while it is read (``gzip.BadGzipFile`` is an ``OSError``).
GZIP_ERRORS = (OSError, EOFError, zlib.error)


def is_gzip(path: PathLike) -> bool:
    """Whether ``path`` is read decompressed (its name ends in ``.gz``)."""
    return Path(path).name.lower().endswith(".gz")


def without_gz(name: str) -> str:
    """``name`` without a final ``.gz`` (``train.pubtator.gz`` -> ``train.pubtator``)."""
    return name[:-3] if name.lower().endswith(".gz") else name


def _open(path: PathLike) -> BinaryIO:
    try:
        return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")
    except OSError as err:
        raise CorpusFormatError(str(path), None, f"cannot read file ({err.strerror or err})") from err


def binary_lines(path: PathLike) -> Iterator[Tuple[int, bytes]]:
    """The lines of ``path`` as ``(line number from 1, bytes with their newline)``, decompressed if gzip.

    Raises:
        CorpusFormatError: the file cannot be opened, or its compressed data is corrupt or truncated (naming the
            line reached).
    """
    number = 0
    with _open(path) as handle:
        try:
            for number, raw in enumerate(handle, start=1):
                yield number, raw
        except GZIP_ERRORS as err:
            raise CorpusFormatError(str(path), number + 1, f"corrupt or truncated gzip data ({err})") from err


def read_bytes(path: PathLike) -> bytes:
    """The content of ``path``, decompressed if gzip.

    Raises:
        CorpusFormatError: the file cannot be opened, or its compressed data is corrupt or truncated.
    """
    with _open(path) as handle:
        try:
            return handle.read()
        except GZIP_ERRORS as err:
            raise CorpusFormatError(str(path), None, f"corrupt or truncated gzip data ({err})") from err
