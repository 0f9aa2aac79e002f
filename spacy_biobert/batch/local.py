"""The local backend of ``spacy biobert annotate``: stream documents through ``nlp.pipe`` into a record writer.

Memory stays bounded whatever the input size: input is read lazily, documents go through ``nlp.pipe`` in
batches and are turned into records at once, and every ``chunk`` documents run inside ``nlp.memory_zone()``
so the strings they added to the vocabulary are freed. A run resumes a partly written output: the ids already
there are passed over (see :mod:`spacy_biobert.batch.resume`).
"""
from dataclasses import dataclass, field
from itertools import islice
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Set

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from ..corpus.builder import DOC_ID_ATTR
from ..corpus.sections import set_sections
from ..output.record import Record, doc_to_record, pipeline_kb
from ..output.writers import RecordWriter
from ..pipeline.rel import set_relation_threshold
from .inputs import InputDoc, Item, Skipped

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


def load_pipeline(model: str, relation_threshold: Optional[float] = None) -> Language:
    """``spacy.load(model)``, with ``relation_threshold`` (when given) as every relation component's threshold."""
    nlp = spacy.load(model)
    if relation_threshold is not None:
        set_relation_threshold(nlp, relation_threshold)
    return nlp


def make_doc(nlp: Language, item: InputDoc) -> Doc:
    """The unannotated ``Doc`` of an input document, with its id and sections."""
    doc = nlp.make_doc(item.text)
    doc._.set(DOC_ID_ATTR, item.id)
    set_sections(doc, item.sections)
    return doc


def pipe_records(nlp: Language, docs: Iterable[InputDoc], batch_size: int = 32) -> Iterator[Record]:
    """Records of ``docs`` in input order, through ``nlp.pipe`` (one memory zone per :data:`CHUNK` documents),
    concepts named by the pipeline's KB."""
    docs, kb = iter(docs), pipeline_kb(nlp)
    while True:
        chunk = list(islice(docs, CHUNK))
        if not chunk:
            return
        with nlp.memory_zone():
            for doc in nlp.pipe((make_doc(nlp, d) for d in chunk), batch_size=batch_size):
                yield doc_to_record(doc, kb=kb)


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
