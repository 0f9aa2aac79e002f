"""Encoder names (embedded package, local folder, hub id), when the transformer weights load, and the transformer
model built on spacy-transformers' (its own passes, its copy)."""
from pathlib import Path

import numpy
import pytest
import spacy
import torch
from spacy.training import Example
from spacy_transformers.layers import TransformerModel
from spacy_transformers.layers.hf_shim import HFShim
from spacy_transformers.layers.transformer_model import init as stock_init
from spacy_transformers.span_getters import configure_strided_spans

from spacy_biobert.models import encoder
from spacy_biobert.models.encoder import (
    EMBEDDED_ENCODER, EncoderNotFoundError, create_transformer_model_v2, resolve_encoder_name,
)
from spacy_biobert.models.encoder_call import SETTINGS
from tests.util import LISTENER, transformer_nlp


def test_embedded_encoder_resolves_to_checkpoint_folder():
    path = resolve_encoder_name(EMBEDDED_ENCODER)
    assert path.endswith("model")
    assert (Path(path) / "config.json").is_file()


def test_local_folder_and_hub_id(tiny_bert):
    assert resolve_encoder_name(tiny_bert) == str(Path(tiny_bert).resolve())
    assert resolve_encoder_name("dmis-lab/biobert-base-cased-v1.2") == "dmis-lab/biobert-base-cased-v1.2"


@pytest.mark.parametrize(
    "name, needle",
    [("pkg:no_such_package_xyz", "no_such_package_xyz"), ("./no/such/folder", "no/such/folder"), ("", "empty")],
)
def test_bad_names_are_named_in_the_error(name, needle):
    with pytest.raises(EncoderNotFoundError, match=needle):
        resolve_encoder_name(name)


def test_folder_without_checkpoint(tmp_path):
    with pytest.raises(EncoderNotFoundError, match="config.json"):
        resolve_encoder_name(str(tmp_path))


def test_weights_load_only_at_initialize(tiny_bert):
    nlp = transformer_nlp("pkg:no_such_package_xyz")  # building must not resolve or load anything
    with pytest.raises(EncoderNotFoundError, match="no_such_package_xyz"):
        nlp.initialize()
    nlp = transformer_nlp(tiny_bert)
    nlp.initialize()
    doc = nlp("Famotidine-associated delirium.")
    assert doc._.trf_data.tensors[0].shape[-1] == 32


def test_unknown_hub_id_gives_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    nlp = transformer_nlp("no-such-org/no-such-model")
    with pytest.raises(EncoderNotFoundError, match="no-such-org/no-such-model"):
        nlp.initialize()


def test_pipeline_used_before_initialize_says_what_to_do(tiny_bert):
    """Issue 12: not spacy-transformers' "'NoneType' object is not callable", but what to call."""
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {"@architectures": "spacy_biobert.TransformerModel.v2", "name": tiny_bert}})
    nlp.add_pipe("biobert_ner", config={"model": {"tok2vec": LISTENER}})
    expected = r"not loaded: call nlp\.initialize\(\) \(or train the pipeline with `spacy train`\)"
    for run in (lambda: nlp("Lithium caused tremor."), lambda: list(nlp.pipe(["Lithium caused tremor."]))):
        with pytest.raises(ValueError, match=expected):
            run()
    nlp.initialize(lambda: [Example.from_dict(nlp.make_doc("Lithium ."), {"entities": [(0, 7, "Chemical")]})])
    assert len(nlp("Lithium caused tremor.")) == 4


def test_the_model_is_built_with_its_own_passes_on_spacy_transformers_model(tiny_bert):
    """Composed, not patched: our init in the constructor, spacy-transformers' TransformerModel class and shim."""
    model = create_transformer_model_v2(tiny_bert)
    assert isinstance(model, TransformerModel) and model.init is encoder.init
    assert model.layers[0].name == "hf-pytorch" and isinstance(model.layers[0].shims[0], HFShim)
    assert TransformerModel(tiny_bert, configure_strided_spans(8, 8)).init is stock_init


def test_copy_is_the_same_encoder_with_its_own_weights(tiny_bert):
    model = create_transformer_model_v2(tiny_bert, sort_windows=False, chunk_wordpieces=64)
    model.initialize()
    copied = model.copy()
    assert type(copied) is type(model) and copied.layers[0].attrs[SETTINGS] == model.layers[0].attrs[SETTINGS]
    docs = [spacy.blank("en")("Lithium caused tremor and polyuria .")]
    numpy.testing.assert_array_equal(copied.predict(docs).tensors[0], model.predict(docs).tensors[0])
    with torch.no_grad():
        next(copied.transformer.parameters()).add_(1.0)
    assert not numpy.array_equal(copied.predict(docs).tensors[0], model.predict(docs).tensors[0])
