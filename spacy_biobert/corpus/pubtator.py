"""PubTator reader (as in BioCreative V CDR).

A document is a block of lines, blocks separated by blank lines::

    PMID|t|title
    PMID|a|abstract
    PMID<TAB>start<TAB>end<TAB>text<TAB>type<TAB>id(s)[<TAB>extra column]
    PMID<TAB>CID<TAB>chemical id<TAB>disease id

Offsets index into ``title + " " + abstract`` (the document's two sections, :mod:`.sections`). Ids may be ``-1`` or composite (``D008750|D007022``); they
are kept verbatim on ``ent.kb_id_``. The extra column (CDR: the parts of a composite mention) is kept in the
mention span group's ``attrs["extra"]``.

A file is read exactly or refused (:class:`CorpusFormatError` naming file and line): besides malformed lines,
the reader refuses control characters (a stray CR, NUL...), a tab in a title/abstract and a mention line with
more than 7 columns (both: two lines joined by a lost newline), a repeated annotation line, a repeated
document id, and a last line without newline (a truncated file). A UTF-8 byte order mark is skipped.
"""
import re
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

from .builder import CorpusFormatError, Mention, SourceDoc
from .files import binary_lines
from .sections import title_and_abstract

Line = Tuple[int, str]


def read_lines(path: Path) -> List[Line]:
    """Read ``path`` as UTF-8 (gzip-compressed when its name ends in ``.gz``: :mod:`.files`), as ``(line number,
    text)`` pairs.

    A UTF-8 byte order mark at the start of the file is skipped.

    Raises:
        CorpusFormatError: on bytes that are not UTF-8 and on control characters other than tab (a CR is
            allowed only before the newline), naming the line; on a corrupt or truncated gzip file; on a last
            line without its newline (a file cut short: its last value may be cut mid-word).
    """
    lines: List[Line] = []
    raw = b"\n"
    for number, raw in binary_lines(path):
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
        except UnicodeDecodeError as err:
            raise CorpusFormatError(str(path), number, f"not valid UTF-8 ({err.reason})") from err
        control = CONTROL.search(text)
        if control:
            problem = f"control character {control.group()!r} at column {control.start() + 1}"
            raise CorpusFormatError(str(path), number, problem)
        lines.append((number, text))
    if not raw.endswith(b"\n"):
        raise CorpusFormatError(str(path), len(lines), "last line has no newline: the file looks truncated")
    return lines


def document_blocks(lines: List[Line]) -> Iterator[List[Line]]:
    """The document blocks of a PubTator file's lines (separated by blank lines)."""
    block: List[Line] = []
    for number, text in lines:
        if text.strip():
            block.append((number, text))
        elif block:
            yield block
            block = []
    if block:
        yield block


#: Characters refused in a line: C0/C1 controls except tab (``\r`` mid-line: line endings mixed or a lost newline).
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
#: Most columns of a mention line: 6 + one extra column (CDR composite mentions).
MAX_MENTION_COLUMNS = 7

#: A relation line's type column, e.g. ``CID``.
RELATION_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def _int(value: str, what: str, source: str, number: int) -> int:
    try:
        return int(value)
    except ValueError:
        raise CorpusFormatError(source, number, f"{what} offset {value!r} is not an integer") from None


def _mention(fields: List[str], text: str, source: str, number: int) -> Mention:
    if not 5 <= len(fields) <= MAX_MENTION_COLUMNS:
        problem = f"mention line has {len(fields)} columns, expected 5 to {MAX_MENTION_COLUMNS}"
        problem += " (two lines joined?)" if len(fields) > MAX_MENTION_COLUMNS else ""
        raise CorpusFormatError(source, number, problem)
    start = _int(fields[1], "start", source, number)
    end = _int(fields[2], "end", source, number)
    if not 0 <= start < end <= len(text):
        raise CorpusFormatError(
            source, number, f"offsets {start}-{end} outside the document text (length {len(text)})"
        )
    if text[start:end] != fields[3]:
        raise CorpusFormatError(
            source, number, f"mention text {fields[3]!r} differs from document text {text[start:end]!r}"
        )
    kb_id = fields[5] if len(fields) > 5 else ""
    return Mention(start, end, fields[3], fields[4], kb_id, extra=tuple(fields[6:]), where=f"{source}:{number}")


def _text(block: List[Line], source: str) -> Tuple[str, str, str]:
    heads = [(n, t.split("|", 2)) for n, t in block[:2]]
    for (number, parts), kind in zip(heads, ("t", "a")):
        if len(parts) != 3 or parts[1] != kind:
            raise CorpusFormatError(source, number, f"expected a 'PMID|{kind}|...' line")
    if len(heads) < 2:
        raise CorpusFormatError(source, block[0][0], "document has a title but no abstract line (truncated?)")
    for number, parts in heads:
        if "\t" in parts[2]:
            raise CorpusFormatError(source, number, "tab in a title/abstract line (two lines joined?)")
    (n_title, (doc_id, _, title)), (n_abs, (abs_id, _, abstract)) = heads
    if abs_id != doc_id:
        raise CorpusFormatError(source, n_abs, f"abstract id {abs_id!r} differs from title id {doc_id!r}")
    return doc_id, title, abstract


def parse_block(block: List[Line], source: str) -> SourceDoc:
    """Parse one document block.

    Raises:
        CorpusFormatError: for any malformed line, naming ``source`` and the line number.
    """
    doc_id, title, abstract = _text(block, source)
    text = title + " " + abstract
    doc = SourceDoc(doc_id, text, sections=list(title_and_abstract(title, abstract)))
    relations: List[Tuple[int, List[str]]] = []
    seen: Dict[str, int] = {}
    for number, line in block[2:]:
        if line in seen:
            raise CorpusFormatError(source, number, f"repeats line {seen[line]} of document {doc_id!r}")
        seen[line] = number
        fields = line.split("\t")
        if len(fields) < 2:
            raise CorpusFormatError(source, number, f"unknown line type: {line[:60]!r}")
        if fields[0] != doc_id:
            raise CorpusFormatError(source, number, f"line belongs to {fields[0]!r} inside document {doc_id!r}")
        if fields[1].lstrip("-").isdigit():
            doc.mentions.append(_mention(fields, text, source, number))
        elif len(fields) == 4 and RELATION_TYPE.fullmatch(fields[1]):
            relations.append((number, fields))
        else:
            raise CorpusFormatError(source, number, f"unknown line type: {line[:60]!r}")
    known = {part for m in doc.mentions for part in m.kb_id.split("|")}
    for number, fields in relations:
        missing = [cid for cid in fields[2:4] if cid not in known]
        if missing:
            problem = f"{fields[1]} relation names id(s) {missing} that no mention of document {doc_id!r} has"
            raise CorpusFormatError(source, number, problem)
        doc.concept_relations.append((fields[2], fields[3], fields[1]))
    return doc


def read_pubtator(path: Path) -> Iterator[SourceDoc]:
    """Yield the documents of a PubTator file.

    Args:
        path: the ``.pubtator`` / ``.txt`` file.
    Yields:
        :class:`SourceDoc` per document.
    Raises:
        CorpusFormatError: on malformed input, naming file and line; on a document id read before.
    """
    source = str(path)
    lines = read_lines(Path(path))
    if not lines:
        raise CorpusFormatError(source, None, "file is empty")
    first_line: Dict[str, int] = {}
    for block in document_blocks(lines):
        doc = parse_block(block, source)
        if doc.doc_id in first_line:
            problem = f"document {doc.doc_id!r} already read at line {first_line[doc.doc_id]}"
            raise CorpusFormatError(source, block[0][0], problem)
        first_line[doc.doc_id] = block[0][0]
        yield doc
