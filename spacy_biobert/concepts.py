"""Concept ids: the one place that says which concept(s) a mention refers to.

Used by the relation head (grouping mentions, training labels), the scorers (mapping predictions to gold
concepts) and the entity linker's knowledge bases.

* :func:`concept_ids` -- a mention's own ids: ``kb_id_`` split on ``|`` (CDR's composite mentions such as
  ``D008750|D007022`` refer to both); a mention without an id (``""`` or ``-1``) falls back to
  ``"text:" + lower-cased, whitespace-normalised text``, so repeated unnormalised mentions of the same
  string form one concept.
* **Exact-character-span rule** (:func:`gold_concept_mapper`, :func:`concept_translation`): a predicted
  mention gets the concept ids of the gold mention(s) with exactly the same character span -- gold
  ``doc.ents`` and every mention of the span group ``doc.spans["biobert_mentions"]`` (token-aligned span
  and original ``attrs["char_offsets"]``). A predicted mention matching no gold mention is its own
  concept, named by the text fallback, which no gold relation uses.
"""
from collections import defaultdict
from typing import Callable, Dict, Set, Tuple

from spacy.tokens import Doc, Span

from .corpus.builder import MENTIONS_KEY
from .corpus.sections import title_end

#: ``kb_id_`` values that mean "no id".
MISSING_IDS = ("", "-1")
#: Prefix of the text-fallback concept id.
TEXT_PREFIX = "text:"
CharSpan = Tuple[int, int]
#: A function ``span -> concept ids``.
ConceptsOf = Callable[[Span], Tuple[str, ...]]


def text_concept_id(text: str) -> str:
    """The text-fallback concept id of a mention text: ``"text:" + lower-cased, whitespace-normalised text``."""
    return TEXT_PREFIX + " ".join(text.lower().split())


def split_ids(kb_id: str) -> Tuple[str, ...]:
    """The concept ids of a ``kb_id`` string: split on ``|``, missing ids (``""``, ``-1``) dropped; may be empty."""
    return tuple(part for part in kb_id.split("|") if part not in MISSING_IDS)


def concept_ids(span: Span) -> Tuple[str, ...]:
    """The concept ids a mention refers to (see the module docstring).

    Args:
        span: an entity span.
    Returns:
        A non-empty tuple of concept ids.
    """
    return split_ids(span.kb_id_) or (text_concept_id(span.text),)


def gold_span_ids(reference: Doc) -> Dict[CharSpan, Tuple[str, ...]]:
    """Map each gold mention's character span(s) to its concept ids.

    Args:
        reference: the gold document (``doc.ents`` and ``doc.spans["biobert_mentions"]``).
    Returns:
        ``{(start_char, end_char): concept ids}``.
    """
    table: Dict[CharSpan, Set[str]] = defaultdict(set)
    for ent in reference.ents:
        table[(ent.start_char, ent.end_char)].update(concept_ids(ent))
    group = reference.spans.get(MENTIONS_KEY)
    if group is not None:
        offsets = list(group.attrs.get("char_offsets") or [])
        for i, span in enumerate(group):
            ids = concept_ids(span)
            table[(span.start_char, span.end_char)].update(ids)
            if i < len(offsets):
                table[tuple(offsets[i])].update(ids)
    return {key: tuple(sorted(ids)) for key, ids in table.items()}


def gold_concept_mapper(reference: Doc) -> ConceptsOf:
    """Return ``f(predicted span) -> concept ids`` following the exact-character-span rule."""
    table = gold_span_ids(reference)

    def concepts_of(span: Span) -> Tuple[str, ...]:
        return table.get((span.start_char, span.end_char)) or (text_concept_id(span.text),)

    return concepts_of


def concept_translation(predicted: Doc, reference: Doc) -> Dict[str, Set[str]]:
    """Map each concept id of ``predicted.ents`` to the gold ids of its exactly matching mentions.

    A predicted concept none of whose mentions match maps to an empty set.
    """
    table = gold_span_ids(reference)
    translation: Dict[str, Set[str]] = defaultdict(set)
    for ent in predicted.ents:
        gold = table.get((ent.start_char, ent.end_char), ())
        for cid in concept_ids(ent):
            translation[cid].update(gold)
    return translation


def title_concept_ids(doc: Doc) -> Set[str]:
    """The concept ids (no text fallback) of the entities of ``doc`` within its title
    (:func:`spacy_biobert.corpus.sections.title_end`)."""
    end = title_end(doc)
    return {cid for ent in doc.ents if ent.end_char <= end for cid in concept_ids(ent)
            if not cid.startswith(TEXT_PREFIX)} if end else set()
