"""Documents to annotate, streamed from plain text, JSONL, PubTator or BioC XML input.

Every document comes as an :class:`InputDoc` (id, text, where) in input order. A bad record (or a
repeated id) raises :class:`BadInput` naming the file and line (or record); with ``skip_bad`` the reader
yields a :class:`Skipped` in its place instead, so a caller can report every skip and account for every record
(records in = records written + skips).

* ``text`` -- a ``.txt`` file is one document (id: the file name without suffix); a folder holds one document
  per ``*.txt`` file, in name order. Files must be UTF-8.
* ``jsonl`` -- one ``{"id": ..., "text": ...}`` object per line (blank lines are ignored); ``id`` is required
  and unique, ``text`` a string; both valid Unicode (a lone surrogate escape such as ``"\\ud83d"`` is a bad
  record).
* ``pubtator`` / ``bioc`` -- read by our corpus converters; the text (title + " " + abstract) is annotated with
  its sections (title, abstract, BioC passages: the writers keep them), gold annotations in the file are
  ignored. A bad PubTator block is skippable; problems of the whole file
  (truncation, bad encoding, broken XML) are not.
"""
import json
from pathlib import Path
from typing import Callable, Dict, Iterator, NamedTuple, Optional, Tuple, Union

from ..corpus.bioc import read_bioc
from ..corpus.builder import CorpusFormatError
from ..corpus.pubtator import document_blocks, parse_block, read_lines
from ..corpus.sections import Section
from ..errors import unicode_problem

FORMATS = ("text", "jsonl", "pubtator", "bioc")
SUFFIXES = {".txt": "text", ".jsonl": "jsonl", ".pubtator": "pubtator", ".xml": "bioc", ".bioc": "bioc"}


class InputDoc(NamedTuple):
    """One document to annotate."""

    id: str
    text: str
    where: str  # "file:line" or "file (record)", for messages
    sections: Tuple[Section, ...] = ()  # title, abstract, ... when the input has them


class Skipped(NamedTuple):
    """A bad input record passed over (``skip_bad``)."""

    where: str
    problem: str


class BadInput(ValueError):
    """A bad input record; the message names the file and line."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


Item = Union[InputDoc, Skipped]


def guess_format(path: Path) -> str:
    """The input/output format of ``path`` from its suffix (a folder: ``text``)."""
    path = Path(path)
    if path.is_dir():
        return "text"
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    fmt = SUFFIXES.get(Path(name).suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: cannot tell the format from the suffix; pass it ({', '.join(FORMATS)})")
    return fmt


def _text_files(path: Path) -> Iterator[Item]:
    files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
    for file in files:
        try:
            yield InputDoc(file.stem, file.read_text(encoding="utf8"), str(file))
        except UnicodeDecodeError as err:
            yield Skipped(str(file), f"not valid UTF-8 at byte {err.start}")


def _jsonl_doc(raw: bytes, where: str) -> Item:
    try:
        obj = json.loads(raw.decode("utf8"))
    except UnicodeDecodeError as err:
        return Skipped(where, f"not valid UTF-8 at column {err.start + 1}")
    except json.JSONDecodeError as err:
        return Skipped(where, f"malformed JSON ({err.msg} at column {err.colno})")
    if not isinstance(obj, dict):
        return Skipped(where, f"expected a JSON object with 'id' and 'text', got {type(obj).__name__}")
    doc_id, text = obj.get("id"), obj.get("text")
    if doc_id is None or str(doc_id).strip() == "":
        return Skipped(where, "missing 'id'")
    if not isinstance(text, str):
        return Skipped(where, f"'text' must be a string, got {type(text).__name__}")
    for name, value in (("id", str(doc_id)), ("text", text)):
        problem = unicode_problem(value)
        if problem:
            return Skipped(where, f"{name!r} holds a {problem}")
    return InputDoc(str(doc_id), text, where)


def _jsonl(path: Path) -> Iterator[Item]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                yield _jsonl_doc(raw, f"{path}:{number}")


def _pubtator(path: Path) -> Iterator[Item]:
    for block in document_blocks(read_lines(path)):
        try:
            doc = parse_block(block, str(path))
        except CorpusFormatError as err:
            yield Skipped(f"{path}:{err.line}", err.problem)
            continue
        yield InputDoc(doc.doc_id, doc.text, f"{path}:{block[0][0]}", tuple(doc.sections))


def _bioc(path: Path) -> Iterator[Item]:
    for doc in read_bioc(path):
        yield InputDoc(doc.doc_id, doc.text, f"{path} (document {doc.doc_id})", tuple(doc.sections))


INPUT_READERS = {"text": _text_files, "jsonl": _jsonl, "pubtator": _pubtator, "bioc": _bioc}


def read_inputs(
    path: Path, fmt: str, skip_bad: bool = False, refuse: Optional[Callable[[str, str], Optional[str]]] = None
) -> Iterator[Item]:
    """Stream the documents of ``path``.

    Args:
        path: input file or folder.
        fmt: one of :data:`FORMATS`.
        skip_bad: yield :class:`Skipped` for a bad record instead of raising.
        refuse: ``(id, text) -> why the output cannot hold that document`` (or None): such a document is a bad
            record (e.g. :meth:`~spacy_biobert.output.writers.RecordWriter.refusal`).
    Yields:
        :class:`InputDoc` (or :class:`Skipped`) in input order.
    Raises:
        BadInput: a bad record or a repeated id (without ``skip_bad``), naming file and line; an input without
            any document (after reading it all).
        CorpusFormatError: a PubTator/BioC file that cannot be read at all.
    """
    if fmt not in INPUT_READERS:
        raise ValueError(f"unknown input format {fmt!r}; expected one of {FORMATS}")
    seen: Dict[str, str] = {}
    read = 0
    for item in INPUT_READERS[fmt](Path(path)):
        read += 1
        if isinstance(item, InputDoc):
            problem = (f"document id {item.id!r} repeats the one at {seen[item.id]}" if item.id in seen
                       else refuse(item.id, item.text) if refuse is not None else None)
            item = Skipped(item.where, problem) if problem else item
        if isinstance(item, Skipped):
            if not skip_bad:
                raise BadInput(item.where, item.problem)
            yield item
            continue
        seen[item.id] = item.where
        yield item
    if not read:
        raise BadInput(str(path), "no document in it (an empty file or folder)")
