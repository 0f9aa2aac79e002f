"""Candidate pairs of the relation head: scopes, label filtering before pairing, concept pairs without mention
pairs, and the memory those take on documents with thousands of mentions."""
import random
import tracemalloc

import numpy
import pytest
import spacy
from spacy.tokens import Span

from spacy_biobert.concepts import concept_ids
from spacy_biobert.pipeline.rel_candidates import build_candidates, make_candidate_generator, sentence_ids

CHEM_DIS = {("Chemical", "Disease")}


def mention_pairs(generator, doc, heads, tails):
    return {(h, t) for hs, ts in generator(doc, heads, tails) for h in hs for t in ts}


def brute_force(scope, window, doc, heads, tails):
    """The definition of each scope, pair by pair."""
    sent = sentence_ids(doc)
    keep = {
        "document": lambda a, b: True,
        "sentence": lambda a, b: sent[a.start] == sent[b.start],
        "window": lambda a, b: max(0, max(a.start, b.start) - min(a.end, b.end)) <= window,
    }[scope]
    return {(i, j) for i, a in enumerate(heads) for j, b in enumerate(tails) if keep(a, b)}


def test_candidate_scopes():
    doc = spacy.blank("en")("A b . C d e f g h D .")
    mentions = [doc[0:1], doc[3:4], doc[9:10]]
    pairs = lambda gen: {(h, t) for h, t in mention_pairs(gen, doc, mentions, mentions) if h != t}  # noqa: E731
    assert len(pairs(make_candidate_generator("document"))) == 6
    assert pairs(make_candidate_generator("window", window=2)) == {(0, 1), (1, 0)}
    assert len(pairs(make_candidate_generator("sentence"))) == 6  # no boundaries: one sentence
    for i, token in enumerate(doc):
        token.is_sent_start = i in (0, 3)
    assert pairs(make_candidate_generator("sentence")) == {(1, 2), (2, 1)}
    assert list(make_candidate_generator("document")(doc, mentions, [])) == []
    with pytest.raises(ValueError):
        make_candidate_generator("paragraph")
    with pytest.raises(ValueError):
        make_candidate_generator("window", window=-1)


@pytest.mark.parametrize("scope,window", [("document", 0), ("sentence", 0), ("window", 0), ("window", 3)])
def test_blocks_give_exactly_the_pairs_of_the_scope_definition(scope, window):
    rng = random.Random(7)
    words = [rng.choice(["x", "y", "."]) for _ in range(300)]
    doc = spacy.blank("en")(" ".join(words))
    for token in doc:
        token.is_sent_start = token.i == 0 or doc[token.i - 1].text == "."
    starts = sorted(rng.sample(range(0, 298, 2), 60))
    spans = [doc[s:s + rng.choice([1, 2])] for s in starts]  # non-overlapping, like doc.ents
    heads, tails = spans[::2], spans[1::2]
    generator = make_candidate_generator(scope, window=window)
    assert mention_pairs(generator, doc, heads, tails) == brute_force(scope, window, doc, heads, tails)


def doc_with_mentions(n_chem, n_dis, n_chem_ids=2, n_dis_ids=2):
    nlp = spacy.blank("en")
    doc = nlp(" ".join(["aspirin"] * n_chem + ["fever"] * n_dis))
    doc.ents = [Span(doc, i, i + 1, "Chemical", kb_id=f"C{i % n_chem_ids}") for i in range(n_chem)] + [
        Span(doc, n_chem + i, n_chem + i + 1, "Disease", kb_id=f"D{i % max(1, n_dis_ids)}") for i in range(n_dis)
    ]
    return doc


def test_mentions_of_labels_without_an_allowed_pair_are_never_paired():
    doc = doc_with_mentions(20000, 0)  # the 20,000-word repeated-chemical text: no (Chemical, Disease) pair
    tracemalloc.start()
    for by_concept in (True, False):
        cands = build_candidates(doc, make_candidate_generator(), CHEM_DIS, concept_ids, by_concept)
        assert len(cands) == 0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50e6  # a list of the 4e8 ordered mention pairs would take tens of GB


def test_concept_pairs_of_thousands_of_mentions_cost_their_concepts_only():
    doc = doc_with_mentions(2500, 2500, n_chem_ids=3, n_dis_ids=4)
    tracemalloc.start()
    cands = build_candidates(doc, make_candidate_generator(), CHEM_DIS, concept_ids, by_concept=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert sorted((info.head_ids, info.tail_ids) for info in cands) == [
        ((f"C{c}",), (f"D{d}",)) for c in range(3) for d in range(4)
    ]
    assert [len(group) for group in cands.instances.groups] == [834, 833, 833, 625, 625, 625, 625]
    assert peak < 50e6  # the 6.25M mention pairs are never built


def test_mention_pairs_are_stored_as_arrays():
    doc = doc_with_mentions(1000, 1000)
    cands = build_candidates(doc, make_candidate_generator(), CHEM_DIS, concept_ids, by_concept=False)
    assert isinstance(cands.instances.pairs, numpy.ndarray) and cands.instances.pairs.shape == (1_000_000, 2)
    assert cands.instances.pairs.nbytes == 8_000_000
    first, last = cands[0], cands[len(cands) - 1]
    assert (first.head.start, first.tail.start, last.head.start, last.tail.start) == (0, 1000, 999, 1999)
    assert first.head_ids == ("C0",) and first.tail_ids == ("D0",)


def test_same_label_pairs_exclude_self_pairs_and_same_concepts():
    doc = doc_with_mentions(4, 0, n_chem_ids=2)
    chem_chem = {("Chemical", "Chemical")}
    mentions = build_candidates(doc, make_candidate_generator(), chem_chem, concept_ids, by_concept=False)
    assert len(mentions) == 12 and all(info.head is not info.tail for info in mentions)
    assert all(h != t for h, t in mentions.instances.pairs)
    concepts = build_candidates(doc, make_candidate_generator(), chem_chem, concept_ids, by_concept=True)
    assert [(i.head_ids, i.tail_ids) for i in concepts] == [(("C0",), ("C1",)), (("C1",), ("C0",))]


def test_concept_hits_take_the_best_row_of_each_concept_pair():
    from spacy_biobert.pipeline.rel_candidates import concept_hits

    doc = spacy.blank("en")("a b c d e")
    doc.ents = [Span(doc, 0, 1, "Chemical", kb_id="C1"), Span(doc, 1, 2, "Chemical", kb_id="C1"),
                Span(doc, 2, 3, "Chemical", kb_id="C2|C3"), Span(doc, 4, 5, "Disease", kb_id="D1")]
    cands = build_candidates(doc, make_candidate_generator(), CHEM_DIS, concept_ids, by_concept=False)
    assert [(i.head.start, i.tail.start) for i in cands] == [(0, 4), (1, 4), (2, 4)]
    probs = numpy.asarray([[0.6, 0.1], [0.9, 0.2], [0.4, 0.7]], dtype="f")
    found = concept_hits(cands, probs, ["CID", "X"], threshold=0.5)
    assert found == {("C1", "D1", "CID"): pytest.approx(0.9), ("C2", "D1", "X"): pytest.approx(0.7),
                     ("C3", "D1", "X"): pytest.approx(0.7)}
    assert concept_hits(cands, probs, ["CID", "X"], threshold=0.95) == {}
