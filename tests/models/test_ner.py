"""Tests of the ``biobert_ner`` architectures."""
import numpy
import pytest
import spacy
from spacy.util import fix_random_seed, registry

import spacy_biobert  # noqa: F401
from tests.util import HASH_TOK2VEC, SHAPE_FEATURES

TEXTS = ["Famotidine induced delirium .", ""]


def build(architecture: str, **options):
    """An architecture from the registry, its sub-layer blocks resolved as a config would."""
    return registry.resolve({"model": {"@architectures": architecture, **options}})["model"]


def test_tagger_maps_each_token_to_nO_scores():
    nlp = spacy.blank("en")
    docs = [nlp.make_doc("Famotidine induced delirium ."), nlp.make_doc("")]
    tok2vec = registry.architectures.get("spacy.HashEmbedCNN.v2")(
        width=16, depth=1, embed_size=100, window_size=1, maxout_pieces=2, subword_features=True, pretrained_vectors=None
    )
    model = registry.architectures.get("spacy_biobert.NERTagger.v2")(tok2vec, nO=9)
    model.initialize(X=docs)
    scores = model.predict(docs)
    assert [s.shape for s in scores] == [(4, 9), (0, 9)]
    assert model.get_ref("output_layer").get_dim("nI") == 16
    numpy.testing.assert_array_equal(scores[0], 0.0)  # zero-initialised output layer: uniform tags at start


def test_inline_transformer_tok2vec_pools_every_token_of_a_long_doc(tiny_bert):
    nlp = spacy.blank("en")
    build = registry.architectures.get("spacy_biobert.Tok2VecTransformer.v2")
    get_spans = registry.span_getters.get("spacy-transformers.strided_spans.v1")(window=32, stride=24)
    pooling = registry.layers.get("reduce_mean.v1")()
    tok2vec = build(name=tiny_bert, get_spans=get_spans, pooling=pooling)
    docs = [nlp.make_doc("rats with cocaine . " * 300), nlp.make_doc("Famotidine")]
    tok2vec.initialize(X=docs)
    vectors = tok2vec.predict(docs)
    assert [v.shape for v in vectors] == [(1200, 32), (1, 32)]
    assert numpy.abs(vectors[0][-4:]).sum() > 0  # the end of the long doc is encoded, not zero-padded


def test_tagger_appends_feature_vectors_to_the_token_vectors():
    nlp = spacy.blank("en")
    docs = [nlp.make_doc(text) for text in TEXTS]
    model = build("spacy_biobert.NERTagger.v2", tok2vec=HASH_TOK2VEC, features=SHAPE_FEATURES, nO=9)
    model.initialize(X=docs)
    scores = model.predict(docs)
    assert [s.shape for s in scores] == [(4, 9), (0, 9)]
    assert model.get_ref("output_layer").get_dim("nI") == HASH_TOK2VEC["width"] + SHAPE_FEATURES["width"]
    assert model.get_ref("features").get_dim("nO") == SHAPE_FEATURES["width"]
    assert model.get_ref("tok2vec").get_dim("nO") == HASH_TOK2VEC["width"]
    numpy.testing.assert_array_equal(scores[0], 0.0)


def test_tagger_features_see_case_and_shape():
    nlp = spacy.blank("en")
    features = build("spacy_biobert.NERTagger.v2", tok2vec=HASH_TOK2VEC, features=SHAPE_FEATURES).get_ref("features")
    docs = [nlp.make_doc("Cocaine"), nlp.make_doc("cocaine")]
    features.initialize(X=docs)
    upper, lower = features.predict(docs)
    assert not numpy.allclose(upper, lower)  # SHAPE and PREFIX differ where NORM (lower case) does not


