"""BioC XML reader (e.g. the BioC release of BioCreative V CDR, BioRED).

Parsing is done by the ``bioc`` package; this module maps its objects to :class:`SourceDoc`.

* **Text** -- passages (or, for passages without text, their sentences) are placed at their ``offset``
  and gaps are padded with spaces, so BioC offsets are offsets into ``SourceDoc.text`` (CDR: title at 0,
  abstract at ``len(title) + 1``, the same text as the PubTator release). Overlapping passages are an error.
  Each passage is one section (:mod:`.sections`), typed by its ``type`` (or ``section_type``) infon.
* **Annotations** -- from the document, its passages and sentences. Label = infon ``type``; kb id = infon
  ``identifier`` (or ``Identifier`` / ``MESH``), kept verbatim (``-1`` and composite ``D1|D2`` included);
  ``Mention.key`` = annotation id; every other infon is kept as ``"key=value"`` in ``Mention.extra`` (sorted
  by key). The annotation text must equal the document text at its location.
* **Discontinuous annotations** (several locations) are not dropped: they become one mention covering
  ``min(start)..max(end)`` with ``"discontinuous"`` and ``"fragments=s-e,s-e"`` appended to ``extra``
  (kept in the span group's ``attrs["extra"]``). Their text must equal either the fragments joined by
  one space (the BRAT convention) or the covering text. Overlapping locations are an error.
* **Relations** -- with two nodes: mention relation ``(first refid, second refid, label)``; label = infon
  ``type``, else ``relation``. Without nodes (CDR: ``Chemical``, ``Disease``, ``relation=CID``): concept
  relation whose head and tail ids are the first two infon values other than ``type``/``relation``, in
  key order (CDR: ``Chemical``, ``Disease``; BioRED: ``entity1``, ``entity2``), so that the order of the
  ``<infon>`` elements does not matter. Relations with one or more than two nodes are an error (n-ary
  relations are not supported), and so are two relations with the same id.
* **Documents** -- two documents with the same id are an error.

Errors raise :class:`CorpusFormatError` naming the file; XML syntax errors carry the line from lxml,
content errors name the document and annotation/relation id (``bioc`` keeps no line numbers).
"""
import io
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Tuple

import bioc
from lxml import etree

from .builder import CorpusFormatError, Mention, SourceDoc
from .files import read_bytes
from .sections import Section

KB_KEYS = ("identifier", "Identifier", "MESH")
LABEL_KEYS = ("type", "relation")
Fragment = Tuple[int, int]


def _load(path: Path) -> bioc.BioCCollection:
    source = str(path)
    raw = read_bytes(path)
    try:
        # parsed from memory: lxml then reports encoding errors with their line (from a file it does not)
        return bioc.biocxml.load(io.BytesIO(raw))
    except etree.XMLSyntaxError as err:
        line = err.lineno if err.lineno else None
        raise CorpusFormatError(source, line, f"malformed XML: {err.msg}") from err
    except (KeyError, TypeError, ValueError) as err:
        # the bioc decoder fails this way on a missing attribute/element or a non-integer offset
        raise CorpusFormatError(source, None, f"malformed BioC ({type(err).__name__}: {err})") from err


def _place(parts: List[str], offset: Optional[int], text: Optional[str], where: str, source: str) -> None:
    if offset is None:
        raise CorpusFormatError(source, None, f"{where} has no <offset>")
    length = sum(len(p) for p in parts)
    if offset < length:
        raise CorpusFormatError(source, None, f"{where} at offset {offset} overlaps the previous text")
    parts.append(" " * (offset - length) + (text or ""))


def section_type(passage: bioc.BioCPassage, number: int) -> str:
    """A passage's section type: its ``type`` infon (CDR: ``title``, ``abstract``), else ``section_type``
    (PubTator3 full text), else ``passage<number>``."""
    return passage.infons.get("type") or passage.infons.get("section_type") or f"passage{number}"


def document_text(document: bioc.BioCDocument, source: str) -> Tuple[str, List[Section]]:
    """Concatenate the passages of ``document`` at their offsets, padding gaps with spaces.

    Args:
        document: a BioC document.
        source: file name, for messages.
    Returns:
        The document text in BioC (document-level) offsets, and one :class:`Section` per passage (a passage
        given by its sentences spans them).
    Raises:
        CorpusFormatError: if passages overlap or lack an offset.
    """
    parts: List[str] = []
    sections: List[Section] = []
    for number, passage in enumerate(document.passages, start=1):
        where = f"document {document.id}, passage {number}"
        if passage.text or not passage.sentences:
            _place(parts, passage.offset, passage.text, where, source)
            start = passage.offset
        else:
            for sentence in passage.sentences:
                _place(parts, sentence.offset, sentence.text, f"{where}, sentence", source)
            start = passage.sentences[0].offset
        sections.append(Section(section_type(passage, number), start, sum(len(p) for p in parts)))
    return "".join(parts), sections


def _all(document: bioc.BioCDocument, attr: str) -> Iterator:
    yield from getattr(document, attr)
    for passage in document.passages:
        yield from getattr(passage, attr)
        for sentence in passage.sentences:
            yield from getattr(sentence, attr)


def _first(infons: dict, keys: Iterable[str]) -> str:
    return next((infons[k] for k in keys if infons.get(k)), "")


def _fragments(ann: bioc.BioCAnnotation, text: str, where: str, source: str) -> List[Fragment]:
    if not ann.locations:
        raise CorpusFormatError(source, None, f"{where} has no <location>")
    fragments = sorted((loc.offset, loc.offset + loc.length) for loc in ann.locations)
    for number, (start, end) in enumerate(fragments):
        if not 0 <= start < end <= len(text):
            raise CorpusFormatError(
                source, None, f"{where}: location {start}-{end} outside the document text (length {len(text)})"
            )
        if number and start < fragments[number - 1][1]:
            problem = f"locations {fragments[number - 1]} and {(start, end)} overlap"
            raise CorpusFormatError(source, None, f"{where}: {problem}")
    return fragments


def _mention(ann: bioc.BioCAnnotation, text: str, doc_id: str, source: str) -> Mention:
    where = f"document {doc_id}, annotation {ann.id!r}"
    label = ann.infons.get("type")
    if not label:
        raise CorpusFormatError(source, None, f"{where} has no 'type' infon")
    if ann.text is None:
        raise CorpusFormatError(source, None, f"{where} has no <text>")
    fragments = _fragments(ann, text, where, source)
    start, end = fragments[0][0], max(e for _, e in fragments)
    found = [text[start:end]]
    extra = tuple(f"{k}={v}" for k, v in sorted(ann.infons.items()) if k != "type" and k not in KB_KEYS)
    if len(fragments) > 1:
        found.insert(0, " ".join(text[s:e] for s, e in fragments))
        extra += ("discontinuous", "fragments=" + ",".join(f"{s}-{e}" for s, e in fragments))
    if ann.text not in found:
        problem = f"text {ann.text!r} differs from document text {found[0]!r}"
        raise CorpusFormatError(source, None, f"{where}: {problem}")
    kb_id = _first(ann.infons, KB_KEYS)
    return Mention(start, end, ann.text, label, kb_id, key=ann.id, extra=extra, where=f"{source} ({where})")


def _relation(rel: bioc.BioCRelation, doc: SourceDoc, source: str) -> None:
    where = f"document {doc.doc_id}, relation {rel.id!r}"
    label = _first(rel.infons, LABEL_KEYS)
    if not label:
        raise CorpusFormatError(source, None, f"{where} has no 'type' or 'relation' infon")
    if rel.nodes:
        if len(rel.nodes) != 2:
            raise CorpusFormatError(source, None, f"{where} has {len(rel.nodes)} nodes; only binary relations")
        doc.mention_relations.append((rel.nodes[0].refid, rel.nodes[1].refid, label))
        return
    ids = [v for k, v in sorted(rel.infons.items()) if k not in LABEL_KEYS and v]
    if len(ids) < 2:
        raise CorpusFormatError(source, None, f"{where} has neither two nodes nor two argument infons")
    doc.concept_relations.append((ids[0], ids[1], label))


def convert_document(document: bioc.BioCDocument, source: str) -> SourceDoc:
    """Map one BioC document to a :class:`SourceDoc`.

    Args:
        document: the BioC document.
        source: file name, for messages.
    Returns:
        The document with mentions, mention relations and concept relations.
    Raises:
        CorpusFormatError: on missing fields, bad or overlapping offsets, text mismatches, duplicate or unknown
            ids.
    """
    if not document.id:
        raise CorpusFormatError(source, None, "a <document> has no <id>")
    text, sections = document_text(document, source)
    doc = SourceDoc(document.id, text, sections=sections)
    for ann in _all(document, "annotations"):
        if not ann.id or any(m.key == ann.id for m in doc.mentions):
            problem = f"missing or duplicate annotation id {ann.id!r}"
            raise CorpusFormatError(source, None, f"document {doc.doc_id}: {problem}")
        doc.mentions.append(_mention(ann, doc.text, doc.doc_id, source))
    relation_ids = set()
    for rel in _all(document, "relations"):
        if rel.id and rel.id in relation_ids:
            raise CorpusFormatError(source, None, f"document {doc.doc_id}: duplicate relation id {rel.id!r}")
        relation_ids.add(rel.id)
        _relation(rel, doc, source)
    keys = {m.key for m in doc.mentions}
    for head, tail, label in doc.mention_relations:
        unknown = [k for k in (head, tail) if k not in keys]
        if unknown:
            problem = f"relation {label} names unknown annotation(s) {unknown}"
            raise CorpusFormatError(source, None, f"document {doc.doc_id}: {problem}")
    return doc


def read_bioc(path: Path) -> Iterator[SourceDoc]:
    """Yield the documents of a BioC XML collection.

    Args:
        path: the BioC XML file (gzip-compressed when its name ends in ``.gz``: :mod:`.files`).
    Yields:
        :class:`SourceDoc` per ``<document>``.
    Raises:
        CorpusFormatError: on malformed XML or BioC content, naming the file (and line for XML errors); on
            two documents with the same id.
    """
    source = str(path)
    collection = _load(Path(path))
    if not collection.documents:
        raise CorpusFormatError(source, None, "no <document> in the collection")
    seen = set()
    for number, document in enumerate(collection.documents, start=1):
        if document.id and document.id in seen:
            raise CorpusFormatError(source, None, f"document {number} repeats the id {document.id!r}")
        seen.add(document.id)
        yield convert_document(document, source)
