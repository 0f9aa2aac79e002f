"""The linker's candidate store on the ``Doc``: ``doc._.biobert_link_candidates``.

Value: ``{(start_char, end_char): ((concept id, score), ...)}`` for each linked entity, best first (also
below the threshold, when ``ent.kb_id_`` stays empty). Stored in ``doc.user_data`` as plain tuples
(msgpack-safe), so ``DocBin(store_user_data=True)``, ``Doc.to_bytes`` and ``nlp.pipe(n_process=2)`` keep it.
"""
from typing import Dict, Iterable, Mapping, Tuple

from spacy.tokens import Doc

from ..extensions import install_extension

#: ``doc._.biobert_link_candidates``
CANDIDATES_ATTR = "biobert_link_candidates"
#: Key of the raw records in ``doc.user_data``.
CANDIDATES_DATA_KEY = "spacy_biobert.link_candidates"
CharSpan = Tuple[int, int]
Scored = Tuple[Tuple[str, float], ...]


def get_link_candidates(doc: Doc) -> Dict[CharSpan, Scored]:
    """The candidates of each linked entity, by character span."""
    records = doc.user_data.get(CANDIDATES_DATA_KEY, ())
    return {(int(s), int(e)): tuple((str(cid), float(score)) for cid, score in cands) for s, e, cands in records}


def set_link_candidates(doc: Doc, candidates: Mapping[CharSpan, Iterable[Tuple[str, float]]]) -> None:
    """Replace the candidate store of ``doc``."""
    doc.user_data[CANDIDATES_DATA_KEY] = tuple(
        (int(s), int(e), tuple((str(cid), float(score)) for cid, score in cands))
        for (s, e), cands in sorted(candidates.items())
    )


def install_candidate_extension() -> None:
    """Register ``doc._.biobert_link_candidates``. Idempotent; never overwrites another package's attribute."""
    install_extension(CANDIDATES_ATTR, getter=get_link_candidates, setter=set_link_candidates)
