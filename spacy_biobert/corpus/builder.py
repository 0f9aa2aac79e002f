"""Format-independent part of corpus conversion: source annotations -> ``Doc``, with counted alignment.

Alignment policy (the same for every format):

* a mention whose character offsets fall on token boundaries becomes that token span;
* otherwise it is **expanded** to the smallest token span covering it and counted as *misaligned*
  (its original offsets stay in ``doc.spans[MENTIONS_KEY].attrs["char_offsets"]``);
* every mention is kept in the span group ``doc.spans[MENTIONS_KEY]`` (overlaps included);
  ``doc.ents`` holds a non-overlapping subset (longest first, then earliest) and each mention left out
  of it is counted with its reason. Nothing is dropped silently.
"""
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup

from ..errors import FileFormatError
from ..extensions import install_extension
from ..relations import Relation, set_concept_relations, set_relations
from .sections import Section, install_section_extension, set_sections

#: Source document id (e.g. the PMID): ``doc._.biobert_doc_id``, set by the converters.
DOC_ID_ATTR = "biobert_doc_id"
#: Span group holding every gold mention of a converted corpus, overlapping ones included.
MENTIONS_KEY = "biobert_mentions"


def install_corpus_extensions() -> None:
    """Register ``doc._.biobert_doc_id`` (default ``None``) and ``doc._.biobert_sections``. Idempotent."""
    install_extension(DOC_ID_ATTR, default=None)
    install_section_extension()


class CorpusFormatError(FileFormatError):
    """Malformed corpus input. The message names the file and line (``line``: None when the format has none)."""

    @property
    def line(self) -> Optional[Union[int, str]]:
        """The line (or record) of the problem."""
        return self.where


@dataclass
class Mention:
    """One annotated mention in source coordinates."""

    start: int
    end: int
    text: str
    label: str
    kb_id: str = ""
    key: str = ""  # format-specific id, e.g. BRAT "T3"; used by mention-level relations
    extra: Tuple[str, ...] = ()
    where: str = ""  # "file:line", for messages


@dataclass
class SourceDoc:
    """One document in source coordinates, as produced by a format reader."""

    doc_id: str
    text: str
    mentions: List[Mention] = field(default_factory=list)
    concept_relations: List[Tuple[str, str, str]] = field(default_factory=list)
    mention_relations: List[Tuple[str, str, str]] = field(default_factory=list)  # (head key, tail key, label)
    skipped: Counter = field(default_factory=Counter)  # source lines the Doc cannot represent, by kind
    sections: List[Section] = field(default_factory=list)  # title, abstract, ... (see .sections)


@dataclass
class ConversionStats:
    """What a conversion produced and what it could not represent exactly."""

    docs: int = 0
    mentions: Counter = field(default_factory=Counter)
    concept_relations: Counter = field(default_factory=Counter)
    mention_relations: Counter = field(default_factory=Counter)
    misaligned: int = 0
    discontinuous: int = 0
    skipped: Counter = field(default_factory=Counter)
    not_in_ents: Counter = field(default_factory=Counter)
    examples: List[str] = field(default_factory=list)

    def note(self, message: str, limit: int = 10) -> None:
        if len(self.examples) < limit:
            self.examples.append(message)

    def as_dict(self) -> Dict[str, object]:
        """A JSON-friendly summary."""
        total = sum(self.mentions.values())
        return {
            "documents": self.docs,
            "mentions": dict(self.mentions),
            "mentions_total": total,
            "concept_relations": dict(self.concept_relations),
            "mention_relations": dict(self.mention_relations),
            "misaligned_expanded": self.misaligned,
            "misaligned_pct": round(100.0 * self.misaligned / total, 3) if total else 0.0,
            "discontinuous_as_covering_span": self.discontinuous,
            "skipped_source_lines": dict(self.skipped),
            "not_in_doc_ents": dict(self.not_in_ents),
        }


def _align(doc: Doc, mention: Mention, stats: ConversionStats) -> Span:
    span = doc.char_span(mention.start, mention.end, label=mention.label, kb_id=mention.kb_id)
    if span is None:
        span = doc.char_span(
            mention.start, mention.end, label=mention.label, kb_id=mention.kb_id, alignment_mode="expand"
        )
        if span is None or len(span) == 0:
            raise CorpusFormatError(mention.where, None, f"mention {mention.text!r} covers no token")
        stats.misaligned += 1
        stats.note(f"{mention.where}: {mention.text!r} expanded to tokens {span.text!r}")
    return span


def _select_ents(spans: Sequence[Span], stats: ConversionStats) -> List[Span]:
    order = sorted(range(len(spans)), key=lambda i: (-(spans[i].end - spans[i].start), spans[i].start))
    taken = set()
    chosen: List[Span] = []
    for i in order:
        span = spans[i]
        tokens = set(range(span.start, span.end))
        if tokens & taken:
            same = any(s.start == span.start and s.end == span.end for s in chosen)
            stats.not_in_ents["duplicate token span" if same else "overlaps a longer mention"] += 1
            continue
        taken |= tokens
        chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def build_doc(nlp: Language, source: SourceDoc, stats: ConversionStats) -> Doc:
    """Tokenize ``source.text`` with ``nlp`` and attach mentions, entities and relations.

    Args:
        nlp: pipeline whose tokenizer is used (the same as the training pipeline's).
        source: the document in source coordinates.
        stats: updated with counts.
    Returns:
        The annotated ``Doc``.
    Raises:
        CorpusFormatError: if a mention relation names an unknown mention.
    """
    doc = nlp.make_doc(source.text)
    doc._.set(DOC_ID_ATTR, source.doc_id)
    set_sections(doc, source.sections)
    spans = [_align(doc, m, stats) for m in source.mentions]
    group = SpanGroup(doc, name=MENTIONS_KEY, spans=spans)
    group.attrs["char_offsets"] = tuple((m.start, m.end) for m in source.mentions)
    group.attrs["extra"] = tuple(m.extra for m in source.mentions)
    doc.spans[MENTIONS_KEY] = group
    doc.ents = _select_ents(spans, stats)
    stats.docs += 1
    stats.mentions.update(m.label for m in source.mentions)
    stats.discontinuous += sum("discontinuous" in m.extra for m in source.mentions)
    stats.skipped.update(source.skipped)
    set_concept_relations(doc, source.concept_relations)
    stats.concept_relations.update(label for _, _, label in set(source.concept_relations))
    by_key = {m.key: span for m, span in zip(source.mentions, spans) if m.key}
    relations = []
    for head, tail, label in source.mention_relations:
        missing = [k for k in (head, tail) if k not in by_key]
        if missing:
            raise CorpusFormatError(source.doc_id, None, f"relation {label} names unknown mention(s) {missing}")
        relations.append(Relation(by_key[head], by_key[tail], label, 1.0))
    set_relations(doc, relations)
    stats.mention_relations.update(label for _, _, label in source.mention_relations)
    return doc


def build_docs(nlp: Language, sources: Iterable[SourceDoc], stats: ConversionStats) -> List[Doc]:
    """Apply :func:`build_doc` to every source document."""
    return [build_doc(nlp, source, stats) for source in sources]
