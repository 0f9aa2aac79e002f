"""The candidate store survives DocBin, to_bytes and copy."""
import pytest
from spacy.tokens import Doc, DocBin

from spacy_biobert.extensions import ExtensionConflictError
from spacy_biobert.kb import CANDIDATES_ATTR, get_link_candidates, install_candidate_extension, set_link_candidates

STORE = {(0, 3): (("D1", 1.0), ("D2", 0.5)), (4, 9): ()}


def test_round_trips(nlp):
    doc = nlp("abc defgh")
    set_link_candidates(doc, STORE)
    assert doc._.get(CANDIDATES_ATTR) == STORE
    restored = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert get_link_candidates(restored) == STORE
    (from_bin,) = DocBin(docs=[doc], store_user_data=True).get_docs(nlp.vocab)
    assert get_link_candidates(from_bin) == STORE and get_link_candidates(doc.copy()) == STORE


def test_install_is_idempotent_and_never_overwrites():
    install_candidate_extension()
    install_candidate_extension()
    getter = Doc.get_extension(CANDIDATES_ATTR)[2]
    Doc.remove_extension(CANDIDATES_ATTR)
    Doc.set_extension(CANDIDATES_ATTR, default=None)  # someone else's
    try:
        with pytest.raises(ExtensionConflictError):
            install_candidate_extension()
    finally:
        Doc.remove_extension(CANDIDATES_ATTR)
        Doc.set_extension(CANDIDATES_ATTR, getter=getter, setter=set_link_candidates)
