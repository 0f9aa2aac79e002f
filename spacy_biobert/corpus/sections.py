"""Document sections: the title, the abstract and any full-text section, as stretches of the document text.

A reader that knows a document's sections (PubTator: title and abstract; BioC: one per passage) gives them as
:class:`Section` ``(type, start, end)`` -- half-open character offsets into the text, in text order, not
overlapping. They live on ``doc._.biobert_sections`` (a tuple of plain tuples: msgpack-safe, so ``DocBin``
keeps them), travel in the output record and let the writers write one BioC passage per section and the
whole title on PubTator's ``|t|`` line. A document without sections (plain text) has ``()``.
"""
from typing import Iterable, NamedTuple, Tuple

from spacy.tokens import Doc

from ..extensions import install_extension

SECTIONS_ATTR = "biobert_sections"
SECTIONS_DATA_KEY = "spacy_biobert.sections"


class Section(NamedTuple):
    """One section: its type (``title``, ``abstract``, a BioC passage's ``type`` infon...) and character span."""

    type: str
    start: int
    end: int


def check_sections(sections: Iterable[Iterable], length: int) -> Tuple[Section, ...]:
    """``sections`` as :class:`Section` tuples.

    Raises:
        ValueError: naming the section, if one is not ``(type, start, end)`` with ``0 <= start <= end <= length``
            or starts before the previous one ends.
    """
    checked = []
    for number, item in enumerate(sections, start=1):
        try:
            kind, start, end = item
            section = Section(str(kind), int(start), int(end))
        except (TypeError, ValueError):
            raise ValueError(f"section {number}: expected (type, start, end), got {item!r}") from None
        if not 0 <= section.start <= section.end <= length:
            raise ValueError(f"section {number} {tuple(section)}: outside the text (length {length})")
        if checked and section.start < checked[-1].end:
            raise ValueError(f"section {number} {tuple(section)} overlaps the section before it")
        checked.append(section)
    return tuple(checked)


def title_and_abstract(title: str, abstract: str) -> Tuple[Section, Section]:
    """The sections of ``title + " " + abstract`` (PubTator's text)."""
    return Section("title", 0, len(title)), Section("abstract", len(title) + 1, len(title) + 1 + len(abstract))


def get_sections(doc: Doc) -> Tuple[Section, ...]:
    """The sections of ``doc`` (``()`` when none were stored)."""
    return tuple(Section(*section) for section in doc.user_data.get(SECTIONS_DATA_KEY, ()))


def title_end(doc: Doc) -> int:
    """The character offset where the title of ``doc`` ends: the ``title`` section's end when it has sections, else
    the end of its first sentence (PubTator's title and abstract are one text), else 0 (no title)."""
    for section in get_sections(doc):
        if section.type == "title":
            return section.end
    if len(doc) and doc.has_annotation("SENT_START"):
        return next(iter(doc.sents)).end_char
    return 0


def set_sections(doc: Doc, sections: Iterable[Iterable]) -> None:
    """Store the sections of ``doc`` (checked against its text, see :func:`check_sections`)."""
    doc.user_data[SECTIONS_DATA_KEY] = tuple(tuple(s) for s in check_sections(sections, len(doc.text)))


def install_section_extension() -> None:
    """Register ``doc._.biobert_sections``. Idempotent."""
    install_extension(SECTIONS_ATTR, getter=get_sections, setter=set_sections)
