"""Streaming writers of output records (:mod:`spacy_biobert.output.record`) to JSONL, BioC XML and PubTator.

Every writer is a context manager with ``write(record)``; what a format cannot hold is counted in
``writer.lossy`` (reason -> number of documents, entities or relations), never dropped silently. An entity
without a database id (its only concept is the record's ``text:`` fallback) gets no identifier: PubTator's
``-``, no BioC ``identifier`` infon.

* **JSONL** -- the record itself, one per line: lossless.
* **BioC XML** (via ``bioc``, as PubTator3 and the BioC release of CDR) -- one passage per section of the record
  (title, abstract, full-text sections; infon ``type``) at its document offset, a record without sections one
  passage holding the whole text at offset 0; annotations ``T0``... in the passage where they start, with
  infons ``type`` (label), ``identifier`` (the database ids joined by ``|``, absent without one), ``name``
  (their KB names joined by ``|``, when known; a name XML cannot hold -- a control character from the KB's
  source -- is left empty and counted as lost, the document still written) and ``confidence``, locations in
  document offsets; at document
  level, mention relations with ``head``/``tail`` nodes and concept relations between database ids with infons
  ``type``, ``entity1``, ``entity2`` and ``score``. A concept relation of an entity without a database id, and
  text outside every section, are counted as lost. Our BioC reader and ``bioc``'s read it back.
* **PubTator** (with relation lines, as CDR) -- ``|t|`` holds the record's first section (the title) and ``|a|``
  the rest of the text after one separator character, so offsets index ``title + " " + abstract`` as in CDR's
  files; a record without sections is split at its first line break (else all of it is the title and the
  abstract is empty: read back with a trailing space). Mention lines carry the database ids joined by ``|``
  (``-`` without one). PubTator has no scores, no mention relations, no relation of an entity without an id and
  no line breaks: line breaks and tabs are written as spaces (same length, offsets exact), and each such loss is
  counted.
"""
import json
import re
from collections import Counter
from pathlib import Path
from typing import IO, Dict, List, Optional, Type

import bioc
from bioc import biocxml

from ..concepts import TEXT_PREFIX
from .record import Record

#: BioC's ``type`` infon of an entity without a label (a relation argument outside ``doc.ents``).
UNLABELLED = "unlabelled"
LINE_BREAKS = str.maketrans({"\n": " ", "\r": " ", "\t": " ", "\x0b": " ", "\x0c": " "})
#: What a PubTator id cannot hold (its end is the first '|'; our reader refuses control characters), and what
#: PubTator text cannot hold once LINE_BREAKS are spaces.
PUBTATOR_ID_REFUSED = re.compile(r"[|\x00-\x1f\x7f-\x9f]")
PUBTATOR_TEXT_REFUSED = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
#: Characters XML 1.0 cannot hold (surrogates aside: no input holds one).
XML_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def refused_char(pattern: re.Pattern, value: str, what: str) -> Optional[str]:
    """Names the first character of ``value`` matching ``pattern`` (``what``: the field), or None."""
    found = pattern.search(value)
    return None if found is None else f"{what} holds {found.group()!r} at character {found.start()}"


def xml_name(concept: Dict) -> str:
    """The KB name of a record concept for BioC's ``name`` infon: empty when unknown or when XML cannot hold it."""
    name = concept.get("name") or ""
    return "" if XML_REFUSED.search(name) else name


#: PubTator's id column of an entity without a database id.
NO_ID = "-"
NO_ID_RELATIONS = "concept relations of an entity without a database id"


def is_database_id(cid: str) -> bool:
    """Whether ``cid`` is a database id (not a ``text:`` fallback)."""
    return not cid.startswith(TEXT_PREFIX)


def _has_database_ids(relation: Dict) -> bool:
    return is_database_id(relation["head"]) and is_database_id(relation["tail"])


def database_ids(entity: Dict) -> List[str]:
    """The database ids of a record entity (its concepts but the ``text:`` fallback)."""
    return [c["id"] for c in entity["concepts"] if is_database_id(c["id"])]


class RecordWriter:
    """Base class: opens ``path`` (appending when ``append``), counts ``written`` and ``lossy``; ``suffix`` is
    the file suffix that selects the writer's format (``spacy biobert annotate``)."""

    suffix = ""

    def __init__(self, path: Path, append: bool = False):
        self.path = Path(path)
        self.append = append
        self.written = 0
        self.lossy: Counter = Counter()
        self.handle: Optional[IO] = None

    def __enter__(self) -> "RecordWriter":
        self.handle = self.path.open("a" if self.append else "w", encoding="utf8", newline="\n")
        return self

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            self.handle.close()

    def refusal(self, doc_id: str, text: str) -> Optional[str]:
        """Why this format cannot hold a document with ``doc_id`` and ``text`` (None: it can); the input readers
        make such a document a bad record, and :meth:`write` refuses it."""
        return None

    def write(self, record: Record) -> None:
        """Write one record.

        Raises:
            ValueError: naming the document, if the format cannot hold it (:meth:`refusal`).
        """
        problem = self.refusal(str(record["id"]), record["text"])
        if problem:
            raise ValueError(f"document {record['id']!r}: {problem}")
        self._write(record)
        self.written += 1
        if self.handle is not None:
            self.handle.flush()  # a crash leaves whole records behind, so a run can resume

    def _write(self, record: Record) -> None:
        raise NotImplementedError


class JsonlWriter(RecordWriter):
    """One JSON record per line."""

    suffix = ".jsonl"

    def _write(self, record: Record) -> None:
        self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def title_end(record: Record) -> Optional[int]:
    """Where PubTator's title ends in the record's text: at the end of the first section when it starts at 0
    and a separator (or the end of the text) follows it; else at the first line break; else None."""
    text, sections = record["text"], record.get("sections") or []
    if sections and sections[0]["start"] == 0:
        end = sections[0]["end"]
        if end == len(text) or text[end].isspace():
            return end
    breaks = [i for i in (text.find("\n"), text.find("\r")) if i >= 0]
    return min(breaks) if breaks else None


class PubtatorWriter(RecordWriter):
    """PubTator blocks with mention and relation lines (see the module docstring for what is lost)."""

    suffix = ".pubtator"

    def refusal(self, doc_id: str, text: str) -> Optional[str]:
        problem = (refused_char(PUBTATOR_ID_REFUSED, doc_id, f"the id {doc_id!r}")
                   or refused_char(PUBTATOR_TEXT_REFUSED, text, "the text"))
        return f"PubTator cannot hold it: {problem} (write JSONL)" if problem else None

    def _write(self, record: Record) -> None:
        doc_id, text = str(record["id"]), record["text"]
        flat = text.translate(LINE_BREAKS)
        if flat != text:
            self.lossy["line breaks or tabs written as spaces (documents)"] += 1
        end = title_end(record)
        title, abstract = (flat, "") if end is None else (flat[:end], flat[end + 1:])
        if len(title) + 1 + len(abstract) != len(text):
            self.lossy["text without a title and an abstract: read back with a trailing space (documents)"] += 1
        if len(record.get("sections") or ()) > 2:
            self.lossy["sections after the abstract written on its line (documents)"] += 1
        lines = [f"{doc_id}|t|{title}", f"{doc_id}|a|{abstract}"]
        for ent in record["entities"]:
            mention = ent["text"].translate(LINE_BREAKS)
            ids = "|".join(database_ids(ent)) or NO_ID
            lines.append("\t".join([doc_id, str(ent["start"]), str(ent["end"]), mention, ent["label"], ids]))
        for rel in record["concept_relations"]:
            if _has_database_ids(rel):
                lines.append("\t".join([doc_id, rel["label"], rel["head"], rel["tail"]]))
            else:
                self.lossy[NO_ID_RELATIONS] += 1
        if record["relations"]:
            self.lossy["mention-level relations (PubTator has none)"] += len(record["relations"])
        if record["relations"] or record["concept_relations"] or any(e["confidence"] is not None for e in record["entities"]):
            self.lossy["scores (PubTator has none) (documents)"] += 1
        self.handle.write("\n".join(lines) + "\n\n")


class BiocWriter(RecordWriter):
    """A BioC XML collection, written document by document."""

    suffix = ".xml"

    def refusal(self, doc_id: str, text: str) -> Optional[str]:
        problem = refused_char(XML_REFUSED, doc_id, f"the id {doc_id!r}") or refused_char(XML_REFUSED, text, "the text")
        return f"BioC XML cannot hold it: {problem} (write JSONL)" if problem else None

    def __enter__(self) -> "BiocWriter":
        if self.append:
            raise ValueError(f"{self.path}: a BioC XML collection cannot be appended to; write a new file")
        self.xml = biocxml.BioCXMLDocumentWriter(str(self.path))
        collection = bioc.BioCCollection()
        collection.source, collection.key = "spacy-biobert", "spacy-biobert.key"
        self.xml.write_collection_info(collection)
        return self

    def __exit__(self, *exc) -> None:
        self.xml.close()

    def _write(self, record: Record) -> None:
        unlabelled = sum(1 for ent in record["entities"] if not ent["label"])
        if unlabelled:
            self.lossy[f"entities without a label written with type '{UNLABELLED}'"] += unlabelled
        if outside_sections(record).strip():
            self.lossy["text outside every section (documents)"] += 1
        without_ids = sum(1 for rel in record["concept_relations"] if not _has_database_ids(rel))
        if without_ids:
            self.lossy[NO_ID_RELATIONS] += without_ids
        names = sum(1 for ent in record["entities"] for c in ent["concepts"] if c.get("name") and not xml_name(c))
        if names:
            self.lossy["KB names XML cannot hold, left out of the 'name' infon"] += names
        self.xml.write_document(record_to_bioc(record))


def outside_sections(record: Record) -> str:
    """The record's text outside its sections (none without sections: the text is then one passage)."""
    text, sections = record["text"], record.get("sections") or ()
    if not sections:
        return ""
    starts = [0, *(s["end"] for s in sections)]
    ends = [*(s["start"] for s in sections), len(text)]
    return "".join(text[start:end] for start, end in zip(starts, ends))


def _passages(record: Record) -> List[bioc.BioCPassage]:
    text = record["text"]
    passages = []
    for section in record.get("sections") or [{"type": None, "start": 0, "end": len(text)}]:
        passage = bioc.BioCPassage()
        passage.offset, passage.text = section["start"], text[section["start"]:section["end"]]
        if section["type"]:
            passage.infons["type"] = section["type"]
        passages.append(passage)
    return passages


def _annotation(ent: Dict) -> bioc.BioCAnnotation:
    ann = bioc.BioCAnnotation()
    ann.id, ann.text = ent["id"], ent["text"]
    ann.infons["type"] = ent["label"] or UNLABELLED
    concepts = [c for c in ent["concepts"] if is_database_id(c["id"])]
    if concepts:
        ann.infons["identifier"] = "|".join(database_ids(ent))
    names = [xml_name(c) for c in concepts]
    if any(names):
        ann.infons["name"] = "|".join(names)
    if ent["confidence"] is not None:
        ann.infons["confidence"] = f"{ent['confidence']:.6g}"
    ann.add_location(bioc.BioCLocation(ent["start"], ent["end"] - ent["start"]))
    return ann


def record_to_bioc(record: Record) -> bioc.BioCDocument:
    """One record as a BioC document (see the module docstring)."""
    document = bioc.BioCDocument()
    document.id = str(record["id"])
    passages = _passages(record)
    for passage in passages:
        document.add_passage(passage)
    for ent in record["entities"]:
        home = [p for p in passages if p.offset <= ent["start"]] or passages
        home[-1].add_annotation(_annotation(ent))
    for number, rel in enumerate(record["relations"]):
        relation = bioc.BioCRelation()
        relation.id = f"R{number}"
        relation.infons.update({"type": rel["label"], "score": f"{rel['score']:.6g}"})
        relation.add_node(bioc.BioCNode(rel["head"], "head"))
        relation.add_node(bioc.BioCNode(rel["tail"], "tail"))
        document.add_relation(relation)
    for number, rel in enumerate(r for r in record["concept_relations"] if _has_database_ids(r)):
        relation = bioc.BioCRelation()
        relation.id = f"C{number}"
        relation.infons.update({"type": rel["label"], "entity1": rel["head"], "entity2": rel["tail"],
                                "score": f"{rel['score']:.6g}"})
        document.add_relation(relation)
    return document


WRITERS: Dict[str, Type[RecordWriter]] = {"jsonl": JsonlWriter, "bioc": BiocWriter, "pubtator": PubtatorWriter}
