"""Streaming writers of output records (:mod:`spacy_biobert.output.record`) to JSONL, BioC XML and PubTator.

Every writer is a context manager with ``write(record)``; what a format cannot hold is counted in
``writer.lossy`` (reason -> number of documents or relations), never dropped silently:

* **JSONL** -- the record itself, one per line: lossless.
* **BioC XML** (via ``bioc``, what PubTator3 users load) -- one passage holding the text at offset 0;
  annotations ``T0``... with infons ``type`` (label), ``identifier`` (the concept ids joined by ``|``) and
  ``confidence``; mention relations with ``head``/``tail`` nodes; concept relations with infons ``type``,
  ``entity1``, ``entity2`` and ``score``. Lossless; our BioC reader reads it back.
* **PubTator** (with relation lines, as CDR) -- the text is split at its first space into title and abstract
  (PubTator's offsets index ``title + " " + abstract``, so the text and offsets are exact); mention lines carry
  the concept ids joined by ``|``. PubTator has no scores, no mention relations and no line breaks: line
  breaks and tabs are written as spaces (same length, offsets exact), and each such loss is counted.
"""
import json
import re
from collections import Counter
from pathlib import Path
from typing import IO, Dict, Optional, Type

import bioc
from bioc import biocxml

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


def concept_field(entity: Dict) -> str:
    """The concept ids of a record entity, joined by ``|``."""
    return "|".join(c["id"] for c in entity["concepts"])


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
        title, _, abstract = flat.partition(" ")
        if " " not in flat:
            self.lossy["text without a space: read back with a trailing space (documents)"] += 1
        lines = [f"{doc_id}|t|{title}", f"{doc_id}|a|{abstract}"]
        for ent in record["entities"]:
            mention = ent["text"].translate(LINE_BREAKS)
            lines.append("\t".join([doc_id, str(ent["start"]), str(ent["end"]), mention, ent["label"], concept_field(ent)]))
        for rel in record["concept_relations"]:
            lines.append("\t".join([doc_id, rel["label"], rel["head"], rel["tail"]]))
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
        self.xml.write_document(record_to_bioc(record))


def record_to_bioc(record: Record) -> bioc.BioCDocument:
    """One record as a BioC document (see the module docstring)."""
    document = bioc.BioCDocument()
    document.id = str(record["id"])
    passage = bioc.BioCPassage()
    passage.offset, passage.text = 0, record["text"]
    for ent in record["entities"]:
        ann = bioc.BioCAnnotation()
        ann.id, ann.text = ent["id"], ent["text"]
        ann.infons.update({"type": ent["label"] or UNLABELLED, "identifier": concept_field(ent)})
        if ent["confidence"] is not None:
            ann.infons["confidence"] = f"{ent['confidence']:.6g}"
        ann.add_location(bioc.BioCLocation(ent["start"], ent["end"] - ent["start"]))
        passage.add_annotation(ann)
    for number, rel in enumerate(record["relations"]):
        relation = bioc.BioCRelation()
        relation.id = f"R{number}"
        relation.infons.update({"type": rel["label"], "score": f"{rel['score']:.6g}"})
        relation.add_node(bioc.BioCNode(rel["head"], "head"))
        relation.add_node(bioc.BioCNode(rel["tail"], "tail"))
        passage.add_relation(relation)
    for number, rel in enumerate(record["concept_relations"]):
        relation = bioc.BioCRelation()
        relation.id = f"C{number}"
        relation.infons.update({"type": rel["label"], "entity1": rel["head"], "entity2": rel["tail"],
                                "score": f"{rel['score']:.6g}"})
        passage.add_relation(relation)
    document.add_passage(passage)
    return document


WRITERS: Dict[str, Type[RecordWriter]] = {"jsonl": JsonlWriter, "bioc": BiocWriter, "pubtator": PubtatorWriter}
