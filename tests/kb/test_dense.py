"""The name encoder and its vectors (tiny random BERT), and the matcher's dense fallback (a stub encoder)."""
import random
from collections import Counter

import numpy
import pytest

from spacy_biobert.kb import ConceptMatcher, KnowledgeBase, Normalizer
from spacy_biobert.kb.dense import DenseNames, NameEncoder, build_dense_names, concept_batches, training_pairs


@pytest.fixture(scope="module")
def encoder(tiny_bert):
    return NameEncoder(tiny_bert)


def test_encode_gives_unit_vectors_in_order(encoder):
    texts = ["renal failure", "doxorubicin", "renal failure", "a much longer name of some disease"]
    vectors = encoder.encode(texts, batch_size=2)
    assert vectors.shape == (4, encoder.width) and vectors.dtype == numpy.float32
    numpy.testing.assert_allclose(numpy.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    numpy.testing.assert_allclose(vectors[0], vectors[2], atol=1e-5)
    numpy.testing.assert_allclose(encoder.encode(["doxorubicin"])[0], vectors[1], atol=1e-5)


def test_training_pairs_pair_each_mention_with_its_concepts_other_names():
    kb = KnowledgeBase()
    kb.add("D1", ["Renal failures", "kidney failure"])
    kb.add("D2", ["tremor"])
    kb.add("D1|D2", ["renal failure and tremor", "other"])
    mentions = [("renal failure", "Disease", "D1"), ("tremor", "Disease", "D2"), ("x", "Disease", "D9"),
                ("renal failure and tremor", "Disease", "D1|D2")]
    assert training_pairs(mentions, kb, Normalizer(plurals=True)) == [("renal failure", "kidney failure", "D1")]


def test_concept_batches_never_hold_a_concept_or_string_twice():
    pairs = [(f"a{i % 7}", f"b{i}", f"C{i % 5}") for i in range(40)]
    batches = concept_batches(pairs, 4, random.Random(0))
    assert all(2 <= len(batch) <= 4 for batch in batches)
    for batch in batches:
        assert len({p[2] for p in batch}) == len({p[0] for p in batch}) == len(batch)
    flat = [p for batch in batches for p in batch]
    assert len(flat) == len(set(flat)) and set(flat) <= set(pairs)
    capped = [p for batch in concept_batches(pairs, 4, random.Random(0), per_concept=2) for p in batch]
    assert max(Counter(p[2] for p in capped).values()) <= 2


def test_fine_tuning_pulls_each_mention_to_its_own_name(tiny_bert):
    pairs = [("heart attack", "myocardial infarction", "D1"), ("kidney stone", "nephrolithiasis", "D2"),
             ("hair loss", "alopecia", "D3"), ("low blood sugar", "hypoglycemia", "D4")]
    model = NameEncoder(tiny_bert)

    def own_name_share():
        similarities = model.encode([p[0] for p in pairs]) @ model.encode([p[1] for p in pairs]).T
        return float(numpy.mean(similarities.argmax(axis=1) == numpy.arange(len(pairs))))

    losses = model.fine_tune(pairs, epochs=30, batch_size=4, learn_rate=1e-3)
    assert losses[-1] < losses[0]
    assert own_name_share() == 1.0


def test_disk_and_bytes_round_trips_keep_encoder_and_vectors(encoder, tmp_path):
    dense = DenseNames(encoder)
    names = ["renal failure", "tremor"]
    before = dense.names(names)
    dense.to_disk(tmp_path / "dense")
    for loaded in (DenseNames.from_disk(tmp_path / "dense"), DenseNames.from_bytes(dense.to_bytes())):
        assert len(loaded) == 2
        numpy.testing.assert_allclose(loaded.names(names), before, atol=1e-3)  # stored as float16
        numpy.testing.assert_allclose(loaded.queries(["delirium"]), dense.queries(["delirium"]), atol=1e-5)


def test_a_folder_without_encoder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="kb dense"):
        DenseNames.from_disk(tmp_path)


def test_build_encodes_every_kb_name(tiny_bert):
    kb = KnowledgeBase()
    kb.add("D1", ["Renal failure", "kidney failure"], label="Disease")
    dense = build_dense_names(tiny_bert, kb, Normalizer(), [("renal failure", "Disease", "D1")], epochs=1, batch_size=2)
    assert len(dense) == 2


class StubEncoder:
    """Vectors by word: texts sharing a word of VOCAB point the same way."""

    VOCAB = ["heart", "infarction", "kidney", "renal"]
    SYNONYMS = {"attack": "infarction", "kidney": "renal"}
    width = 4

    def encode(self, texts):
        out = numpy.full((len(texts), self.width), 1e-3, dtype=numpy.float32)
        for row, text in enumerate(texts):
            for word in text.split():
                word = self.SYNONYMS.get(word, word)
                if word in self.VOCAB:
                    out[row, self.VOCAB.index(word)] += 1.0
        return out / numpy.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def kb():
    kb = KnowledgeBase()
    kb.add("D1", ["myocardial infarction"], label="Disease")
    kb.add("D2", ["renal failure"], label="Disease")
    kb.add("C1", ["cardiac glycoside"], label="Chemical")
    return kb


def test_dense_candidates_only_below_the_trigger(kb):
    dense = DenseNames(StubEncoder())
    tfidf = ConceptMatcher(kb)
    for trigger in (0.0, 1.0):
        matcher = ConceptMatcher(kb, dense=dense, dense_trigger=trigger)
        found = matcher.candidates([("heart attack", "Disease"), ("renal failures", "Disease")])
        if trigger == 0.0:  # never below: TF-IDF's candidates
            assert found == tfidf.candidates([("heart attack", "Disease"), ("renal failures", "Disease")])
        else:
            assert found[0][0][0] == "D1" and found[1][0][0] == "D2"
            assert all(cid != "C1" for cid, _ in found[0])  # the label restriction holds for dense candidates
    exact = ConceptMatcher(kb, dense=dense, dense_trigger=1.0).candidates([("Renal failure", "Disease")])
    assert exact == [[("D2", 1.0)]]
