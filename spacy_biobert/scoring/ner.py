"""NER scoring: spaCy's token-level entity P/R/F, and strict character-offset scoring against a corpus.

* ``spacy_biobert.ner_scorer.v1`` (the ``biobert_ner`` default) scores predicted ``doc.ents`` against the
  gold ``doc.ents`` with spaCy's :func:`spacy.scorer.get_ner_prf`: ``ents_p/r/f`` and ``ents_per_type``.
* :func:`score_char_offsets` compares predicted ``(doc id, start_char, end_char, label)`` with *every*
  mention of the original corpus file, so mentions that could not be gold ``doc.ents`` (overlapping,
  duplicated) or that do not fall on token boundaries count as misses, as in the official CDR evaluation.
"""
from collections import defaultdict
from typing import Any, Callable, Dict, Iterable, Optional, Set, Tuple

from spacy.scorer import PRFScore, get_ner_prf
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

from ..corpus.builder import DOC_ID_ATTR

#: (doc id, start char, end char, label)
CharMention = Tuple[str, int, int, str]


def score_ner(examples: Iterable[Example], **kwargs: Any) -> Dict[str, Any]:
    """Entity-level micro P/R/F and per-label P/R/F of ``doc.ents`` (spaCy's ``get_ner_prf``).

    Args:
        examples: predicted/gold pairs.
        kwargs: ignored (the component passes its cfg).
    Returns:
        ``{"ents_p", "ents_r", "ents_f", "ents_per_type": {label: {"p", "r", "f"}}}``.
    """
    return get_ner_prf(examples)


@registry.scorers("spacy_biobert.ner_scorer.v1")
def make_ner_scorer() -> Callable[..., Dict[str, Any]]:
    """The ``biobert_ner`` component's default scorer: :func:`score_ner`."""
    return score_ner


def predicted_char_mentions(docs: Iterable[Doc], span_key: Optional[str] = None) -> Set[CharMention]:
    """Predicted entities as ``(doc._.biobert_doc_id, start_char, end_char, label)``.

    Args:
        docs: annotated docs carrying their source id in ``doc._.biobert_doc_id``.
        span_key: read this span group instead of ``doc.ents``.
    Raises:
        ValueError: for a doc without a source id.
    """
    found: Set[CharMention] = set()
    for doc in docs:
        doc_id = doc._.get(DOC_ID_ATTR)
        if doc_id is None:
            raise ValueError(f"Doc {doc.text[:40]!r}... has no doc._.{DOC_ID_ATTR}; cannot match it to the corpus.")
        spans = doc.spans[span_key] if span_key is not None else doc.ents
        found.update((str(doc_id), s.start_char, s.end_char, s.label_) for s in spans)
    return found


def score_char_offsets(
    predicted: Set[CharMention], gold: Set[CharMention], restrict_to_predicted_docs: bool = False
) -> Dict[str, Any]:
    """Strict (exact character offsets and label) micro and per-label P/R/F.

    Args:
        predicted: from :func:`predicted_char_mentions`.
        gold: every mention of the original corpus file (overlapping and misaligned ones included).
        restrict_to_predicted_docs: ignore gold mentions of documents with no prediction at all (off by
            default: a document missing from the predictions counts its mentions as misses).
    Returns:
        ``{"p", "r", "f", "tp", "fp", "fn", "per_type": {label: {"p", "r", "f"}}}``.
    """
    if restrict_to_predicted_docs:
        doc_ids = {m[0] for m in predicted}
        gold = {m for m in gold if m[0] in doc_ids}
    per_type: Dict[str, PRFScore] = defaultdict(PRFScore)
    for mention in predicted | gold:
        label = mention[3]
        if mention in predicted and mention in gold:
            per_type[label].tp += 1
        elif mention in predicted:
            per_type[label].fp += 1
        else:
            per_type[label].fn += 1
    total = PRFScore()
    for prf in per_type.values():
        total += prf
    return {
        "p": total.precision,
        "r": total.recall,
        "f": total.fscore,
        "tp": total.tp,
        "fp": total.fp,
        "fn": total.fn,
        "per_type": {label: prf.to_dict() for label, prf in sorted(per_type.items())},
    }
