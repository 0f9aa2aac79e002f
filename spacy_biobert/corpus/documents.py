"""Raw documents read from plain text, JSONL, PubTator, BioC XML or BRAT: the one reader of every command that
takes documents to process (``spacy biobert annotate``, masked-LM pretraining).

Every document comes as an :class:`InputDoc` (id, text, where, sections) in input order. A bad record comes as a
:class:`Skipped` naming the file and line (or record) in its place, so that the caller either stops there
(raising :class:`BadInput`) or goes on and accounts for it. A problem of the whole input -- a missing path, an
input without any document, a file that cannot be read (bad gzip data, broken XML, a truncated PubTator file) --
raises (:class:`BadInput` or :class:`~.builder.CorpusFormatError`, both naming the file).

Any file may be gzip-compressed: a name ending in ``.gz`` is read decompressed (:mod:`.files`) and has the
format of the name without it; a ``.gz`` whose inner suffix names no format is PubTator (as NCBI's bulk
``bioconcepts2pubtatorcentral.offset.gz``).

* ``text`` -- a file is one document (id: its name without ``.txt``/``.gz``); a folder holds one document per
  ``*.txt`` (or ``*.txt.gz``) file, in name order. UTF-8.
* ``jsonl`` -- one ``{"id": ..., "text": ...}`` object per line (blank lines ignored; other keys too): ``text`` a
  string; ``id`` may be missing (the document's id is then ``""``: a caller that needs ids refuses it); both
  valid Unicode (a lone surrogate escape such as ``"\\ud83d"`` is a bad record).
* ``pubtator`` / ``bioc`` / ``brat`` (a BRAT folder, named only) -- read by the corpus readers; the text
  (PubTator: title + " " + abstract) comes with its sections, gold annotations are ignored. A bad PubTator block
  is a bad record.
"""
import json
from pathlib import Path
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Tuple, Union

from ..errors import unicode_problem
from . import READERS
from .builder import CorpusFormatError
from .files import binary_lines, is_gzip, read_bytes, without_gz
from .pubtator import document_blocks, parse_block, read_lines
from .sections import Section

FORMATS = ("text", "jsonl", "pubtator", "bioc", "brat")
#: file suffix (after any ``.gz``) -> format.
SUFFIXES = {".txt": "text", ".jsonl": "jsonl", ".pubtator": "pubtator", ".xml": "bioc", ".bioc": "bioc"}


class InputDoc(NamedTuple):
    """One document."""

    id: str
    text: str
    where: str  # "file:line" or "file (record)", for messages
    sections: Tuple[Section, ...] = ()  # title, abstract, ... when the input has them


class Skipped(NamedTuple):
    """A bad input record, in place of its document."""

    where: str
    problem: str


class BadInput(ValueError):
    """A bad input record, or an input that cannot be used; the message names the file and line."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


Item = Union[InputDoc, Skipped]


def guess_format(path: Path) -> str:
    """The format of ``path`` from its suffix (a folder: ``text``; see the module docstring for ``.gz``).

    Raises:
        BadInput: the suffix names no format.
    """
    path = Path(path)
    if path.is_dir():
        return "text"
    fmt = SUFFIXES.get(Path(without_gz(path.name)).suffix.lower())
    if fmt is None and is_gzip(path):
        return "pubtator"
    if fmt is None:
        raise BadInput(str(path), f"cannot tell the format from the suffix; name it ({', '.join(FORMATS)})")
    return fmt


def text_files(path: Path) -> List[Path]:
    """The documents of a ``text`` input: the file, or a folder's ``*.txt`` and ``*.txt.gz`` files in name order."""
    path = Path(path)
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_file() and without_gz(p.name).endswith(".txt"))


def _text(path: Path) -> Iterator[Item]:
    for file in text_files(path):
        doc_id = without_gz(file.name)
        doc_id = doc_id[:-len(".txt")] if doc_id.endswith(".txt") else Path(doc_id).stem
        try:
            yield InputDoc(doc_id, read_bytes(file).decode("utf8"), str(file))
        except UnicodeDecodeError as err:
            yield Skipped(str(file), f"not valid UTF-8 at byte {err.start}")


def jsonl_doc(raw: bytes, where: str) -> Item:
    """The document of one JSONL line (``where``: its file and line), or why it is a bad record."""
    try:
        obj = json.loads(raw.decode("utf8"))
    except UnicodeDecodeError as err:
        return Skipped(where, f"not valid UTF-8 at column {err.start + 1}")
    except json.JSONDecodeError as err:
        return Skipped(where, f"malformed JSON ({err.msg} at column {err.colno})")
    if not isinstance(obj, dict):
        return Skipped(where, f"expected a JSON object with 'id' and 'text', got {type(obj).__name__}")
    doc_id, text = obj.get("id"), obj.get("text")
    doc_id = "" if doc_id is None else str(doc_id)
    if not isinstance(text, str):
        return Skipped(where, f"'text' must be a string, got {type(text).__name__}")
    for name, value in (("id", doc_id), ("text", text)):
        problem = unicode_problem(value)
        if problem:
            return Skipped(where, f"{name!r} holds a {problem}")
    return InputDoc(doc_id, text, where)


def _jsonl(path: Path) -> Iterator[Item]:
    for number, raw in binary_lines(path):
        if raw.strip():
            yield jsonl_doc(raw, f"{path}:{number}")


def _pubtator(path: Path) -> Iterator[Item]:
    for block in document_blocks(read_lines(path)):
        try:
            doc = parse_block(block, str(path))
        except CorpusFormatError as err:
            yield Skipped(f"{path}:{err.line}", err.problem)
            continue
        yield InputDoc(doc.doc_id, doc.text, f"{path}:{block[0][0]}", tuple(doc.sections))


def _corpus_reader(fmt: str) -> Callable[[Path], Iterator[Item]]:
    def read(path: Path) -> Iterator[Item]:
        for doc in READERS[fmt](path):
            yield InputDoc(doc.doc_id, doc.text, f"{path} (document {doc.doc_id})", tuple(doc.sections))
    return read


_READ: Dict[str, Callable[[Path], Iterator[Item]]] = {
    "text": _text, "jsonl": _jsonl, "pubtator": _pubtator, "bioc": _corpus_reader("bioc"),
    "brat": _corpus_reader("brat"),
}


def read_documents(path: Path, fmt: Optional[str] = None) -> Iterator[Item]:
    """Stream the documents of ``path``, and its bad records as :class:`Skipped`.

    Args:
        path: input file or folder.
        fmt: one of :data:`FORMATS`; default: :func:`guess_format`.
    Yields:
        :class:`InputDoc` (or :class:`Skipped`) in input order.
    Raises:
        BadInput: ``path`` does not exist, its format is unknown, or it holds no document (after reading it all).
        CorpusFormatError: a file that cannot be read at all (naming it, and the line where there is one).
    """
    path = Path(path)
    if not path.exists():
        raise BadInput(str(path), "no such file or folder")
    fmt = fmt or guess_format(path)
    if fmt not in _READ:
        raise BadInput(str(path), f"unknown input format {fmt!r}; expected one of {', '.join(FORMATS)}")
    read = 0
    for item in _READ[fmt](path):
        read += 1
        yield item
    if not read:
        raise BadInput(str(path), "no document in it (an empty file, or a folder without .txt files)")
