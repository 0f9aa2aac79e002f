"""Documents to annotate, read by :mod:`spacy_biobert.corpus.documents` (plain text, JSONL, PubTator, BioC XML,
BRAT; gzip-compressed or not) and checked for what an output record needs.

Every document comes as an :class:`~spacy_biobert.corpus.documents.InputDoc` in input order. A bad record -- one
the reader refuses, a document without id, a repeated id, one the output cannot hold -- raises
:class:`~spacy_biobert.corpus.documents.BadInput` naming the file and line (or record); with ``skip_bad`` a
:class:`~spacy_biobert.corpus.documents.Skipped` comes in its place instead, so a caller can report every skip
and account for every record (records in = records written + skips). Problems of the whole input (a missing
path, no document, truncation, bad encoding of a PubTator file, broken XML) are not skippable.
"""
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional

from ..corpus.documents import BadInput, InputDoc, Item, Skipped, read_documents


def with_id(item: Item) -> Item:
    """``item``, or a :class:`Skipped` in place of a document without id (an output record needs one)."""
    if isinstance(item, InputDoc) and not item.id.strip():
        return Skipped(item.where, "missing 'id'")
    return item


def read_inputs(
    path: Path, fmt: str, skip_bad: bool = False, refuse: Optional[Callable[[str, str], Optional[str]]] = None
) -> Iterator[Item]:
    """Stream the documents of ``path``.

    Args:
        path: input file or folder.
        fmt: one of :data:`~spacy_biobert.corpus.documents.FORMATS`.
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
    seen: Dict[str, str] = {}
    for item in read_documents(Path(path), fmt):
        item = with_id(item)
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
