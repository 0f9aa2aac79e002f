"""Inference settings given to a trained pipeline at load time (``pipeline.inference``)."""
import numpy
import pytest
import spacy

from spacy_biobert.pipeline.inference import inference_overrides

TEXTS = ["Lithium caused tremor and polyuria.", "Cisplatin nephrotoxicity in ovarian cancer. " * 12, ""]


def predictions(nlp):
    return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(TEXTS)]


def test_overrides_name_every_transformer(saved_ner_model):
    config = spacy.load(saved_ner_model).config
    overrides = inference_overrides(config, int8=True, window=64, stride=60)
    assert overrides == {
        "components.transformer.model.sort_windows": True,
        "components.transformer.model.int8_inference": True,
        "components.transformer.model.int8_per_channel": True,
        "components.transformer.model.get_spans.window": 64,
        "components.transformer.model.get_spans.stride": 60,
    }


def test_sorted_windows_keep_the_predictions(saved_ner_model):
    config = spacy.load(saved_ner_model).config
    plain = spacy.load(saved_ner_model, config=inference_overrides(config, sort_windows=False))
    fast = spacy.load(saved_ner_model, config=inference_overrides(config, sort_windows=True))
    assert [nlp.config["components"]["transformer"]["model"]["sort_windows"] for nlp in (plain, fast)] == [False, True]
    assert predictions(fast) == predictions(plain)
    ner = "biobert_ner"
    for a, b in zip(plain.pipe(TEXTS), fast.pipe(TEXTS)):
        numpy.testing.assert_allclose(plain.get_pipe(ner).predict([a])[0], fast.get_pipe(ner).predict([b])[0],
                                      atol=1e-5)


def encoder_outputs(nlp):
    return [doc._.trf_data.tensors[0] for doc in nlp.pipe(TEXTS) if doc._.trf_data.tensors]


def test_the_config_not_the_saved_pipeline_says_how_the_encoder_runs(saved_ner_model, tmp_path):
    config = spacy.load(saved_ner_model).config
    int8 = spacy.load(saved_ner_model, config=inference_overrides(config, int8=True))
    int8.to_disk(tmp_path / "int8")
    fp32 = encoder_outputs(spacy.load(saved_ner_model))
    saved_int8 = encoder_outputs(spacy.load(tmp_path / "int8"))
    loaded_fp32 = encoder_outputs(spacy.load(tmp_path / "int8", config=inference_overrides(int8.config, int8=False)))
    assert not any(numpy.array_equal(a, b) for a, b in zip(fp32, saved_int8))
    assert len(loaded_fp32) == len(fp32) == 2 and all(numpy.array_equal(a, b) for a, b in zip(fp32, loaded_fp32))


def test_sentence_windows_replace_the_strided_windows_and_every_token_keeps_a_vector(saved_ner_model, tmp_path):
    config = spacy.load(saved_ner_model).config
    overrides = inference_overrides(config, sentence_windows=16)
    assert overrides["components.transformer.model.get_spans"] == {
        "@span_getters": "spacy_biobert.sentence_windows.v1", "max_tokens": 16}
    nlp = spacy.load(saved_ner_model, config=overrides)
    nlp.to_disk(tmp_path / "sentences")
    reloaded = spacy.load(tmp_path / "sentences")
    assert reloaded.config["components"]["transformer"]["model"]["get_spans"] == {
        "@span_getters": "spacy_biobert.sentence_windows.v1", "max_tokens": 16}
    assert predictions(reloaded) == predictions(nlp)
    for doc in reloaded.pipe(TEXTS):
        assert all(n > 0 for n in doc._.trf_data.align.lengths)  # every token in one window, encoded once
    with pytest.raises(ValueError, match="not both"):
        inference_overrides(config, sentence_windows=16, window=32)


@pytest.mark.parametrize("window, stride, error", [(8, 9, "stride <= window"), (8, 0, "stride <= window")])
def test_bad_windows_are_refused(saved_ner_model, window, stride, error):
    with pytest.raises(ValueError, match=error):
        inference_overrides(spacy.load(saved_ner_model).config, window=window, stride=stride)


def test_a_pipeline_without_our_transformer_is_refused():
    with pytest.raises(ValueError, match="No component with a spacy_biobert.TransformerModel"):
        inference_overrides(spacy.blank("en").config)


def test_each_transformer_keeps_its_own_window_when_only_the_stride_is_given():
    def component(window, stride):
        return {"model": {"@architectures": "spacy_biobert.TransformerModel.v2", "get_spans": {
            "@span_getters": "spacy-transformers.strided_spans.v1", "window": window, "stride": stride}}}

    config = {"components": {"a": component(64, 48), "b": component(128, 96)}}
    overrides = inference_overrides(config, stride=32)
    assert [overrides[f"components.{name}.model.get_spans.window"] for name in "ab"] == [64, 128]
    assert [overrides[f"components.{name}.model.get_spans.stride"] for name in "ab"] == [32, 32]


def test_inline_encoders_get_the_settings_too():
    """E.g. a relation head's own encoder after replace_listeners (configs/e2e.cfg)."""
    spans = {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 64, "stride": 48}
    config = {"components": {
        "transformer": {"model": {"@architectures": "spacy_biobert.TransformerModel.v2", "get_spans": spans}},
        "biobert_rel": {"model": {"@architectures": "spacy_biobert.RelationModel.v2", "tok2vec": {
            "@architectures": "spacy_biobert.Tok2VecTransformer.v2", "get_spans": spans}}},
        "biobert_ner": {"model": {"tok2vec": {"@architectures": "spacy-transformers.TransformerListener.v1"}}},
    }}
    overrides = inference_overrides(config, int8=True, stride=32)
    inline = "components.biobert_rel.model.tok2vec"
    assert overrides[f"{inline}.int8_inference"] is True and overrides[f"{inline}.get_spans.stride"] == 32
    assert overrides["components.transformer.model.int8_inference"] is True
    assert not any(key.startswith("components.biobert_ner") for key in overrides)
