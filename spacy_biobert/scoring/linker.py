"""Scoring entity linking (``spacy_biobert.linker_scorer.v1``, the ``biobert_linker`` default).

* **mention accuracy** (``linker_mention_acc``): share of gold mentions with an id whose predicted entity at
  the same character span (token-aligned or original offsets) has ids, all of them among the gold ids (a
  composite gold id ``D1|D2`` accepts ``D1``). A missed span counts as wrong; with gold mentions as input it
  is the linker's own accuracy.
* **document-level normalisation** (BioCreative CDR DNER style): per document, the set of (label, concept id)
  of the predicted entities against that of the gold mentions (ids ``-1``/empty left out on both sides);
  micro P/R/F over all documents (``linker_doc_p/r/f``) and per label (``linker_doc_per_type``).

Gold mentions are ``doc.ents`` of the reference plus every mention of ``doc.spans["biobert_mentions"]``.
"""
from collections import defaultdict
from typing import Any, Callable, Dict, Iterable, List, Set, Tuple

from spacy.scorer import PRFScore
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

from ..concepts import split_ids
from ..corpus import MENTIONS_KEY

CharSpan = Tuple[int, int]
#: (character spans it may be matched at, label, ids)
GoldMention = Tuple[Tuple[CharSpan, ...], str, Tuple[str, ...]]


def gold_mentions(reference: Doc) -> List[GoldMention]:
    """The gold mentions of ``reference`` (ents and the mention span group, deduplicated)."""
    found: Dict[Tuple[CharSpan, str], GoldMention] = {}
    for ent in reference.ents:
        key = ((ent.start_char, ent.end_char), ent.label_)
        found[key] = ((key[0],), ent.label_, split_ids(ent.kb_id_))
    group = reference.spans.get(MENTIONS_KEY)
    if group is not None:
        offsets = list(group.attrs.get("char_offsets") or [])
        for i, span in enumerate(group):
            spans = ((span.start_char, span.end_char),)
            if i < len(offsets):
                spans = (tuple(offsets[i]),) + spans
            key = (spans[0], span.label_)
            if key not in found and (spans[-1], span.label_) not in found:
                found[key] = (spans, span.label_, split_ids(span.kb_id_))
    return list(found.values())


def _mention_hits(predicted: Doc, gold: List[GoldMention]) -> Tuple[int, int]:
    """(correct, total) over the gold mentions that have ids."""
    pred = {(e.start_char, e.end_char): split_ids(e.kb_id_) for e in predicted.ents}
    correct = total = 0
    for spans, _, ids in gold:
        if not ids:
            continue
        total += 1
        guess = next((pred[s] for s in spans if s in pred), ())
        correct += bool(guess) and set(guess) <= set(ids)
    return correct, total


def _doc_concepts(predicted: Doc, gold: List[GoldMention]) -> Tuple[Set[Tuple[str, str]], Set[Tuple[str, str]]]:
    cand = {(e.label_, cid) for e in predicted.ents for cid in split_ids(e.kb_id_)}
    return cand, {(label, cid) for _, label, ids in gold for cid in ids}


def score_linking(examples: Iterable[Example], **kwargs: Any) -> Dict[str, Any]:
    """Mention accuracy and document-level normalisation P/R/F (see the module docstring).

    Args:
        examples: predicted docs (entities with ``kb_id_``) and gold references.
        kwargs: settings of the pipe, ignored.
    Returns:
        ``linker_mention_acc``, ``linker_doc_p/r/f``, ``linker_doc_per_type`` (``None`` when there is nothing
        to score).
    """
    correct = total = 0
    overall, per_type = PRFScore(), defaultdict(PRFScore)
    for eg in examples:
        gold = gold_mentions(eg.reference)
        hits, n = _mention_hits(eg.predicted, gold)
        correct, total = correct + hits, total + n
        cand, ref = _doc_concepts(eg.predicted, gold)
        overall.score_set(cand, ref)
        for label in {lab for lab, _ in cand | ref}:
            per_type[label].score_set({c for c in cand if c[0] == label}, {r for r in ref if r[0] == label})
    scored = bool(len(overall))
    return {
        "linker_mention_acc": correct / total if total else None,
        "linker_doc_p": overall.precision if scored else None,
        "linker_doc_r": overall.recall if scored else None,
        "linker_doc_f": overall.fscore if scored else None,
        "linker_doc_per_type": {k: v.to_dict() for k, v in sorted(per_type.items())} if scored else None,
    }


@registry.scorers("spacy_biobert.linker_scorer.v1")
def make_linker_scorer() -> Callable[..., Dict[str, Any]]:
    """The ``biobert_linker`` component's default scorer: :func:`score_linking`."""
    return score_linking
