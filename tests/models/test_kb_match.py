"""Tests of ``spacy_biobert.KBMatchFeatures.v1``, the NER head's dictionary-match feature."""
import numpy
import pytest
import spacy
from spacy.util import registry

import spacy_biobert  # noqa: F401
from spacy_biobert.models.kb_match import FOLDS, doc_fold, match_ids

build = registry.architectures.get("spacy_biobert.KBMatchFeatures.v1")
VOCABULARY = (None, [("Acute Renal  Failure", None), ("renal failure", None), ("rats", None)])


def texts_by_fold(ending: str):
    """One document text of each fold, ending in ``ending``, by fold."""
    found, i = {}, 0
    while len(found) < FOLDS:
        text = f"Document {i} : {ending}"
        found.setdefault(doc_fold(text), text)
        i += 1
    return found


def initialized(groups, **options):
    model = build(lexicon=lambda: groups, **options)
    model.initialize()
    return model


def decode(model, ids):
    """Feature values as ``BILU-label`` strings (``O`` outside a match, ``-`` for an unlabelled name)."""
    labels = ["-"] + model.attrs["labels"]
    return ["O" if i == 0 else f"{'BILU'[(i - 1) % 4]}-{labels[(i - 1) // 4]}" for i in ids]


def test_longest_match_gets_bilu_and_label_case_and_spacing_ignored():
    model = initialized([VOCABULARY, ("a training text", [("cocaine", "Chemical"), ("renal", "Disease")])])
    doc = spacy.blank("en")("Cocaine caused acute renal failure in RATS .")
    assert decode(model, match_ids(model, doc)) == ["U-Chemical", "O", "B--", "I--", "L--", "O", "U--", "O"]
    assert model.get_param("E").shape == (1 + 4 * 3, 16)  # O, and BILU of: no label, Chemical, Disease


def test_a_training_doc_sees_only_the_other_folds_mentions_and_prediction_sees_all():
    texts = texts_by_fold("drug0 drug1 rats")
    groups = [(texts[fold], [(f"drug{fold}", "Chemical")]) for fold in range(FOLDS)]
    model = initialized([VOCABULARY, *groups])
    nlp = spacy.blank("en")
    for fold in range(FOLDS):
        doc = nlp(texts[fold])
        own, other = f"drug{fold}", f"drug{1 - fold}"
        seen = dict(zip([t.text for t in doc], decode(model, match_ids(model, doc, is_train=True))))
        assert seen[own] == "O" and seen[other] == "U-Chemical" and seen["rats"] == "U--"
        seen = dict(zip([t.text for t in doc], decode(model, match_ids(model, doc, is_train=False))))
        assert seen[own] == seen[other] == "U-Chemical"


def test_a_name_hidden_in_its_fold_keeps_its_vocabulary_match_without_label():
    text = texts_by_fold("rats")[0]
    model = initialized([VOCABULARY, (text, [("rats", "Disease")])])
    doc = spacy.blank("en")(text)
    assert decode(model, match_ids(model, doc, is_train=True))[-1] == "U--"
    assert decode(model, match_ids(model, doc))[-1] == "U-Disease"


def test_max_tokens_bounds_the_match():
    model = initialized([VOCABULARY], max_tokens=2)
    doc = spacy.blank("en")("acute renal failure")
    assert decode(model, match_ids(model, doc)) == ["O", "B--", "L--"]


def test_vectors_empty_doc_and_gradient_reach_only_the_matched_rows():
    model = initialized([VOCABULARY], width=4)
    nlp = spacy.blank("en")
    docs = [nlp("rats and renal failure ."), nlp("")]
    vectors, backprop = model.begin_update(docs)
    assert [v.shape for v in vectors] == [(5, 4), (0, 4)]
    table = model.get_param("E")
    numpy.testing.assert_array_equal(vectors[0][1], table[0])  # "and": the O row
    assert backprop([numpy.ones_like(v) for v in vectors]) == []
    grad = model.get_grad("E")
    assert set(numpy.flatnonzero(grad.any(axis=1))) == set(match_ids(model, docs[0]))


def test_bytes_round_trip_keeps_the_dictionary_without_calling_the_lexicon():
    model = initialized([VOCABULARY, ("a text", [("cocaine", "Chemical")])])

    def unreadable():
        raise AssertionError("the lexicon is read at initialization only")

    loaded = build(lexicon=unreadable).from_bytes(model.to_bytes())
    docs = [spacy.blank("en")("Cocaine caused acute renal failure in rats .")]
    assert match_ids(loaded, docs[0]) == match_ids(model, docs[0])
    numpy.testing.assert_array_equal(loaded.predict(docs)[0], model.predict(docs)[0])


def test_uninitialized_model_says_so():
    model = build(lexicon=lambda: [VOCABULARY])
    with pytest.raises(KeyError, match="not been allocated"):
        model.predict([spacy.blank("en")("rats")])
