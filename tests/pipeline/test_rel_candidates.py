"""Candidate mention pairs of the relation head: document, window and sentence scopes."""
import pytest
import spacy

from spacy_biobert.pipeline.rel_candidates import make_candidate_generator


def test_candidate_scopes():
    doc = spacy.blank("en")("A b . C d e f g h D .")
    mentions = [doc[0:1], doc[3:4], doc[9:10]]
    everything = make_candidate_generator("document")(doc, mentions)
    assert len(everything) == 6
    assert set(make_candidate_generator("window", window=2)(doc, mentions)) == {(0, 1), (1, 0)}
    assert len(make_candidate_generator("sentence")(doc, mentions)) == 6  # no boundaries: one sentence
    for i, token in enumerate(doc):
        token.is_sent_start = i in (0, 3)
    assert set(make_candidate_generator("sentence")(doc, mentions)) == {(1, 2), (2, 1)}
    with pytest.raises(ValueError):
        make_candidate_generator("paragraph")
