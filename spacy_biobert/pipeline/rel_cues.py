"""The ``biobert_rel_cues`` component: chemical-induced-disease relations stated by a cue phrase.

CDR abstracts often state a relation in one construction: a chemical mention followed by a cue word and then a
disease mention, as in "cisplatin-induced nephrotoxicity" or "lithium associated with polyuria". This
component, placed after ``biobert_rel``, adds a concept relation for every such pair of ``doc.ents``:

* the head is an entity labelled ``head_label`` (``Chemical``), immediately followed (spaces and hyphens
  allowed) by one of ``cues`` as a whole word;
* the tail is the nearest entity labelled ``tail_label`` (``Disease``) that starts at most ``max_gap``
  characters after the cue, with no full stop in between;
* every concept id of the head (:func:`spacy_biobert.concepts.concept_ids`) is paired with every id of the
  tail under ``label``, with score ``cue_score`` (1.0: above any relation threshold). A pair the relation head
  already stored keeps the higher of the two scores.

It has no weights: its settings are its config. Measured on CDR dev end to end (BENCHMARKS.md "End to end").
"""
import re
from typing import Dict, Iterable, Iterator, List, Sequence

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..concepts import concept_ids
from ..relations import ConceptKey, get_concept_relations, install_relation_extensions, set_concept_relations

#: The cue words of the shipped pipeline (configs/e2e.cfg).
DEFAULT_CUES = ("induced", "associated", "related", "evoked", "caused", "provoked")


@Language.factory(
    "biobert_rel_cues",
    assigns=["doc._.biobert_concept_relations"],
    requires=["doc.ents"],
    default_config={"cues": list(DEFAULT_CUES), "max_gap": 60, "head_label": "Chemical",
                    "tail_label": "Disease", "label": "CID", "cue_score": 1.0},
)
def make_rel_cues(nlp: Language, name: str, cues: List[str], max_gap: int, head_label: str, tail_label: str,
                  label: str, cue_score: float) -> "RelationCues":
    """Create a :class:`RelationCues` (see the module docstring for the settings)."""
    return RelationCues(name, cues=cues, max_gap=max_gap, head_label=head_label, tail_label=tail_label,
                        label=label, cue_score=cue_score)


class RelationCues:
    """Adds the concept relations stated by "HEAD cue TAIL" constructions (see the module docstring)."""

    def __init__(self, name: str, *, cues: Sequence[str], max_gap: int, head_label: str, tail_label: str,
                 label: str, cue_score: float) -> None:
        words = [cue.strip() for cue in cues]
        if not words or not all(words):
            raise ValueError(f"{name}: cues must be non-empty words, got {list(cues)!r}")
        if max_gap < 0:
            raise ValueError(f"{name}: max_gap must be >= 0 characters, got {max_gap}")
        if not label:
            raise ValueError(f"{name}: label must be a non-empty string")
        self.name = name
        self.max_gap = max_gap
        self.head_label, self.tail_label, self.label = head_label, tail_label, label
        self.cue_score = float(cue_score)  # not `score`: spaCy's Scorer calls a component's `score`
        self._cue = re.compile(r"[\s-]*(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
        install_relation_extensions()

    def cue_pairs(self, doc: Doc) -> Iterator[tuple]:
        """The (head, tail) entity pairs joined by a cue, in document order."""
        tails = [ent for ent in doc.ents if ent.label_ == self.tail_label]
        for head in doc.ents:
            if head.label_ != self.head_label:
                continue
            match = self._cue.match(doc.text, head.end_char)
            if match is None:
                continue
            tail = self._nearest_tail(doc, tails, match.end())
            if tail is not None:
                yield head, tail

    def _nearest_tail(self, doc: Doc, tails: List[Span], start: int):
        for tail in tails:  # doc.ents are in document order
            if start <= tail.start_char <= start + self.max_gap:
                return None if "." in doc.text[start:tail.start_char] else tail
        return None

    def __call__(self, doc: Doc) -> Doc:
        relations: Dict[ConceptKey, float] = get_concept_relations(doc)
        for head, tail in self.cue_pairs(doc):
            for head_id in concept_ids(head):
                for tail_id in concept_ids(tail):
                    key = (head_id, tail_id, self.label)
                    relations[key] = max(self.cue_score, relations.get(key, self.cue_score))
        set_concept_relations(doc, relations)
        return doc

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for doc in docs:
            yield self(doc)
