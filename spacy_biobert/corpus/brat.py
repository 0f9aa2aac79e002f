"""BRAT standoff reader: a folder of ``X.txt`` + ``X.ann`` pairs (searched recursively), or one pair.

``.ann`` lines (tab-separated) and what becomes of them:

* ``T1<TAB>Label start end[;start end...]<TAB>text`` -- a mention (``key`` = ``T1``). Offsets are character
  offsets into the ``.txt`` file, read as UTF-8 without newline translation. The text must equal the
  document text at the offsets (a newline in the document may appear as a space in the ``.ann``).
  **Discontinuous** spans (``;``) are not dropped: they become one mention covering ``min..max`` with
  ``"discontinuous"`` and ``"fragments=s-e,s-e"`` appended to ``extra`` (kept in the span group's
  ``attrs["extra"]``); the text check is done on the fragments, joined by one space as BRAT writes them.
* ``R1<TAB>Label Arg1:T1 Arg2:T2`` -- mention relation ``(Arg1, Arg2, Label)``; with other role names the
  first argument is the head.
* ``N1<TAB>Reference T1 MESH:D001<TAB>name`` -- sets the mention's ``kb_id`` to ``MESH:D001`` verbatim;
  several normalisations of one mention are joined with ``|`` (as CDR's composite ids).
* ``A1<TAB>Negated T1`` / ``A2<TAB>Confidence T1 High`` (and old-style ``M``) on a mention -- appended to its
  ``extra`` as ``Negated`` / ``Confidence=High``.
* ``#`` annotator notes are ignored. ``E`` events, ``*`` equivalences and attributes of events are
  skipped and counted in ``SourceDoc.skipped``, which the converter summary prints (event triggers are
  ``T`` lines, so they are kept).
* Any other line type raises :class:`CorpusFormatError`, and so do a line with more or fewer tab-separated
  columns than its type has (two lines joined by a lost newline), an id used twice (a repeated line) and an
  attribute of an unknown id. Every error names the ``.ann`` file and line.
"""
import warnings
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

from .builder import CorpusFormatError, Mention, SourceDoc
from .pubtator import Line, read_lines

Fragment = Tuple[int, int]
SKIPPED = {"E": "event", "*": "equivalence", "A": "attribute of an event", "M": "attribute of an event"}
#: line types whose id must be unique in a file (``*`` lines all have the id ``*``; notes are ignored)
ID_KINDS = ("T", "R", "N", "A", "M", "E")
#: line type -> allowed numbers of tab-separated columns
COLUMNS = {"T": (3,), "R": (2,), "N": (2, 3), "A": (2,), "M": (2,), "E": (2,), "*": (2,), "#": (2, 3)}


def read_text(path: Path) -> str:
    """Read ``path`` exactly (UTF-8, no newline translation).

    Raises:
        CorpusFormatError: if the file is missing, or on bytes that are not UTF-8 (naming the line).
    """
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise CorpusFormatError(str(path), line, f"not valid UTF-8 ({err.reason})") from err


def find_pairs(path: Path) -> List[Tuple[Path, Path, str]]:
    """List the ``(ann, txt, doc_id)`` triples of a BRAT folder, or of one ``.ann``/``.txt`` path.

    Raises:
        CorpusFormatError: if no ``.ann`` file is found, a ``.txt`` is missing, or the suffix is unknown.
    """
    path = Path(path)
    if path.is_dir():
        anns = sorted(path.rglob("*.ann"))
        if not anns:
            raise CorpusFormatError(str(path), None, "no .ann files in the folder")
        orphans = sorted(set(path.rglob("*.txt")) - {a.with_suffix(".txt") for a in anns})
        if orphans:
            warnings.warn(f"{path}: {len(orphans)} .txt file(s) without .ann skipped, e.g. {orphans[0]}")
        ids = [a.relative_to(path).with_suffix("").as_posix() for a in anns]
    elif path.suffix in (".ann", ".txt"):
        anns, ids = [path.with_suffix(".ann")], [path.stem]
        if not anns[0].exists():
            raise CorpusFormatError(str(anns[0]), None, "file not found")
    else:
        raise CorpusFormatError(str(path), None, "expected a folder, a .ann or a .txt file")
    for ann in anns:
        if not ann.with_suffix(".txt").exists():
            raise CorpusFormatError(str(ann), None, f"text file {ann.with_suffix('.txt').name} not found")
    return [(ann, ann.with_suffix(".txt"), doc_id) for ann, doc_id in zip(anns, ids)]


def _fragments(spec: str, text: str, source: str, number: int) -> List[Fragment]:
    fragments = []
    for part in spec.split(";"):
        bounds = part.split()
        if len(bounds) != 2 or not all(b.isdigit() for b in bounds):
            raise CorpusFormatError(source, number, f"bad offsets {part!r} (expected 'start end')")
        start, end = int(bounds[0]), int(bounds[1])
        if not 0 <= start < end <= len(text):
            raise CorpusFormatError(
                source, number, f"offsets {start}-{end} outside the document text (length {len(text)})"
            )
        fragments.append((start, end))
    return sorted(fragments)


def _mention(fields: List[str], text: str, source: str, number: int) -> Mention:
    if len(fields) < 3 or " " not in fields[1]:
        raise CorpusFormatError(source, number, "entity line is not 'T<id><TAB>Label start end<TAB>text'")
    label, spec = fields[1].split(" ", 1)
    fragments = _fragments(spec, text, source, number)
    found = " ".join(text[s:e] for s, e in fragments)
    if fields[2] not in (found, found.replace("\r\n", " ").replace("\n", " ")):
        raise CorpusFormatError(source, number, f"entity text {fields[2]!r} differs from document text {found!r}")
    extra: Tuple[str, ...] = ()
    if len(fragments) > 1:
        extra = ("discontinuous", "fragments=" + ",".join(f"{s}-{e}" for s, e in fragments))
    start, end = fragments[0][0], max(e for _, e in fragments)
    return Mention(start, end, text[start:end], label, key=fields[0], extra=extra, where=f"{source}:{number}")


def _mention_of(key: str, by_key: Dict[str, Mention], source: str, number: int) -> Mention:
    if key not in by_key:
        raise CorpusFormatError(source, number, f"unknown entity id {key!r}")
    return by_key[key]


def _relation(fields: List[str], by_key: Dict[str, Mention], source: str, number: int) -> Tuple[str, str, str]:
    parts = fields[1].split() if len(fields) > 1 else []
    args = [p.split(":", 1) for p in parts[1:]]
    if len(parts) != 3 or any(len(a) != 2 for a in args):
        raise CorpusFormatError(source, number, "relation line is not 'R<id><TAB>Label Arg1:T1 Arg2:T2'")
    roles = dict(args)
    head, tail = (roles["Arg1"], roles["Arg2"]) if {"Arg1", "Arg2"} <= set(roles) else (args[0][1], args[1][1])
    for key in (head, tail):
        _mention_of(key, by_key, source, number)
    return head, tail, parts[0]


def _normalise(fields: List[str], by_key: Dict[str, Mention], source: str, number: int) -> None:
    parts = fields[1].split() if len(fields) > 1 else []
    if len(parts) != 3:
        raise CorpusFormatError(source, number, "normalisation line is not 'N<id><TAB>Reference T1 DB:ID'")
    mention = _mention_of(parts[1], by_key, source, number)
    mention.kb_id = f"{mention.kb_id}|{parts[2]}" if mention.kb_id else parts[2]


def _attribute(
    fields: List[str], by_key: Dict[str, Mention], events: Dict[str, int], source: str, number: int
) -> bool:
    """Append an attribute to its mention's ``extra``; return False for an attribute of an event (skipped)."""
    parts = fields[1].split() if len(fields) > 1 else []
    if len(parts) not in (2, 3):
        raise CorpusFormatError(source, number, "attribute line is not 'A<id><TAB>Name T1 [value]'")
    if parts[1] in events:
        return False
    _mention_of(parts[1], by_key, source, number)
    by_key[parts[1]].extra += ("=".join((parts[0], *parts[2:])),)
    return True


def parse_ann(lines: List[Line], text: str, doc_id: str, source: str) -> SourceDoc:
    """Parse the lines of one ``.ann`` file against its document text.

    Args:
        lines: ``(line number, line)`` pairs of the ``.ann`` file.
        text: the ``.txt`` content.
        doc_id: the document id.
        source: the ``.ann`` file name, for messages.
    Returns:
        The document with its mentions and mention relations.
    Raises:
        CorpusFormatError: on any malformed line, naming ``source`` and the line number.
    """
    doc = SourceDoc(doc_id, text)
    by_key: Dict[str, Mention] = {}
    rows = [(n, line.split("\t")) for n, line in lines if line.strip()]
    ids: Dict[str, int] = {}
    for number, fields in rows:
        kind = fields[0][:1]
        if kind in COLUMNS and len(fields) not in COLUMNS[kind]:
            allowed = " or ".join(map(str, COLUMNS[kind]))
            problem = f"{len(fields)} tab-separated columns, a {kind!r} line has {allowed} (two lines joined?)"
            raise CorpusFormatError(source, number, problem)
        if kind in ID_KINDS and fields[0] in ids:
            raise CorpusFormatError(source, number, f"duplicate id {fields[0]!r} (first at line {ids[fields[0]]})")
        ids[fields[0]] = number
        if kind == "T":
            by_key[fields[0]] = _mention(fields, text, source, number)
            doc.mentions.append(by_key[fields[0]])
    events = {key: number for key, number in ids.items() if key.startswith("E")}
    for number, fields in rows:
        kind = fields[0][:1]
        if kind == "R":
            doc.mention_relations.append(_relation(fields, by_key, source, number))
        elif kind == "N":
            _normalise(fields, by_key, source, number)
        elif kind in ("A", "M") and _attribute(fields, by_key, events, source, number):
            continue
        elif kind in SKIPPED:
            doc.skipped[SKIPPED[kind]] += 1
        elif kind not in ("T", "#"):
            raise CorpusFormatError(source, number, f"unknown line type: {fields[0][:20]!r}")
    return doc


def read_brat(path: Path) -> Iterator[SourceDoc]:
    """Yield the documents of a BRAT folder (or of one ``.ann``/``.txt`` pair).

    Args:
        path: a folder of ``X.txt`` + ``X.ann`` pairs, or one ``.ann`` or ``.txt`` file.
    Yields:
        :class:`SourceDoc` per pair, ``doc_id`` = path relative to the folder, without suffix.
    Raises:
        CorpusFormatError: on missing files, bad encoding or malformed lines, naming file and line.
    """
    for ann, txt, doc_id in find_pairs(Path(path)):
        yield parse_ann(read_lines(ann), read_text(txt), doc_id, str(ann))
