"""The local backend of ``spacy biobert annotate``: stream documents through ``nlp.pipe`` into a record writer.

Memory stays bounded whatever the input size: input is read lazily, documents go through ``nlp.pipe`` in
batches and are turned into records at once, and every ``chunk`` documents run inside ``nlp.memory_zone()``
so the strings they added to the vocabulary are freed (and the vocabulary's tables are rebuilt now and then:
:class:`~spacy_biobert.pipeline.memory_zones.MemoryZones`). A document of any length is annotated: one over
:data:`~spacy_biobert.pipeline.long_docs.MAX_PIECE_CHARS` characters (spaCy alone refuses 1,000,000) is split
into pieces annotated one at a time and re-joined with the offsets of its whole text
(:mod:`spacy_biobert.pipeline.long_docs`), so memory stays bounded by the piece. A run resumes a partly written
output: the ids already there are passed over (see :mod:`spacy_biobert.batch.resume`).
"""
from dataclasses import dataclass, field
from itertools import islice
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Set

from spacy.language import Language
from spacy.tokens import Doc

from ..corpus.builder import DOC_ID_ATTR
from ..corpus.sections import set_sections
from ..output.record import Record, doc_to_record, pipeline_kb
from ..output.writers import RecordWriter
from ..pipeline.long_docs import MAX_PIECE_CHARS, pipe_in_pieces
from ..pipeline.memory_zones import MemoryZones
from ..corpus.documents import InputDoc, Item, Skipped

#: Documents per memory zone.
CHUNK = 1000


@dataclass
class Summary:
    """What a run did: every input record is written, resumed (already in the output) or skipped."""

    read: int = 0
    written: int = 0
    resumed: int = 0
    skipped: List[Skipped] = field(default_factory=list)
    #: what the output format could not hold: description -> count
    lossy: Dict[str, int] = field(default_factory=dict)

    def accounted(self) -> bool:
        """Whether records in = written + resumed + skipped."""
        return self.read == self.written + self.resumed + len(self.skipped)


def with_input(doc: Doc, item: InputDoc) -> Doc:
    """``doc`` (the annotated text of ``item``) with the id and sections of its input document."""
    doc._.set(DOC_ID_ATTR, item.id)
    set_sections(doc, item.sections)
    return doc


def pipe_records(
    nlp: Language, docs: Iterable[InputDoc], batch_size: int = 32, max_chars: int = MAX_PIECE_CHARS,
    zones: Optional[MemoryZones] = None,
) -> Iterator[Record]:
    """Records of ``docs`` in input order, through ``nlp.pipe`` (one memory zone of ``zones`` per :data:`CHUNK`
    documents; texts over ``max_chars`` characters in pieces), concepts named by the pipeline's KB. A caller that
    calls it again and again with the same ``nlp`` passes the same ``zones`` (the default is new ones)."""
    docs, kb, zones = iter(docs), pipeline_kb(nlp), zones or MemoryZones(nlp)

    def run(made: List[Doc]) -> Iterable[Doc]:
        return nlp.pipe(made, batch_size=batch_size)

    while True:
        chunk = list(islice(docs, CHUNK))
        if not chunk:
            return
        with zones.zone():
            annotated = pipe_in_pieces(nlp, (d.text for d in chunk), run, batch_size=batch_size, max_chars=max_chars)
            for doc, item in zip(annotated, chunk):
                yield doc_to_record(with_input(doc, item), kb=kb)


def run_local(
    nlp: Language,
    items: Iterable[Item],
    writer: RecordWriter,
    done: Optional[Set[str]] = None,
    batch_size: int = 32,
    on_record: Optional[Callable[[], None]] = None,
) -> Summary:
    """Annotate ``items`` into ``writer``; ids in ``done`` are passed over (resume).

    Args:
        nlp: the pipeline.
        items: input documents and skips (from :func:`spacy_biobert.batch.inputs.read_inputs`).
        writer: an open record writer.
        done: ids already in the output.
        batch_size: documents per ``nlp.pipe`` batch.
        on_record: called once per input record handled (progress).
    Returns:
        The :class:`Summary`.
    """
    summary, done = Summary(), done or set()
    tick = on_record or (lambda: None)

    def todo() -> Iterator[InputDoc]:
        for item in items:
            summary.read += 1
            if isinstance(item, Skipped):
                summary.skipped.append(item)
                tick()
            elif item.id in done:
                summary.resumed += 1
                tick()
            else:
                yield item

    for record in pipe_records(nlp, todo(), batch_size):
        writer.write(record)
        summary.written += 1
        tick()
    return summary
