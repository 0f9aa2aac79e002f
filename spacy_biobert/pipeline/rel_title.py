"""Title evidence for ``biobert_rel``: a pair whose two concepts are both named in the document's title.

An abstract's title states its main finding ("Lithium-induced tremor in ..."), so a chemical and a disease both
named there are more often related than the relation head's probability alone says. With ``title_bonus`` above 0
the head adds it to the probability of such a pair before the threshold (the stored score is the sum, at most 1).
The title is the ``title`` section, else the first sentence (:func:`spacy_biobert.corpus.sections.title_end`).
Concept level: both concepts have a linked mention (a concept id, not the text fallback) within the title
(:func:`spacy_biobert.concepts.title_concept_ids`); mention level: both mentions lie within it.
"""
import numpy
from spacy.tokens import Doc

from ..concepts import title_concept_ids
from ..corpus.sections import title_end
from .rel_candidates import Candidates


def title_rows(doc: Doc, cands: Candidates, mention_level: bool) -> numpy.ndarray:
    """Whether each candidate row of ``cands`` pairs two concepts (mentions) of the title of ``doc``."""
    rows = numpy.zeros(len(cands), dtype=bool)
    if not len(cands):
        return rows
    if mention_level:
        end = title_end(doc)
        inside = numpy.asarray([span.end_char <= end for span in cands.mentions], dtype=bool)
    else:
        named = title_concept_ids(doc)
        inside = numpy.asarray([any(cid in named for cid in ids) for ids in cands.ids], dtype=bool)
    pairs = numpy.asarray(cands.instances.pairs, dtype="int64").reshape(-1, 2)
    return inside[pairs[:, 0]] & inside[pairs[:, 1]]


def add_title_bonus(doc: Doc, cands: Candidates, probs: numpy.ndarray, bonus: float,
                     mention_level: bool) -> numpy.ndarray:
    """``probs`` with ``bonus`` added to the rows of title pairs (at most 1); ``probs`` itself when none."""
    if bonus <= 0:
        return probs
    rows = title_rows(doc, cands, mention_level)
    if not rows.any():
        return probs
    boosted = probs.copy()
    boosted[rows] = numpy.minimum(1.0, boosted[rows] + bonus)
    return boosted
