"""The ONNX Runtime encoder saved by ``spacy biobert optimize --onnx``: close to PyTorch, same predictions, saved
and reloaded with the pipeline, really run at inference, dropped by training, a clear error without onnxruntime."""
import importlib.util
import sys

import numpy
import pytest
import spacy
import torch

from spacy_biobert.models.onnx_encoder import (ONNX_ATTR, ONNX_KIND_ATTR, OnnxRuntimeMissing, TorchWeightsReleased,
                                                export_onnx, hf_layers)
from spacy_biobert.pipeline.inference import encoder_layers, export_onnx_encoders, release_onnx_encoders
from spacy_biobert.pipeline.loading import load_pipeline
from spacy_biobert.relations import RELATIONS_ATTR
from tests.cli.test_app import python

TEXTS = [
    "Famotidine-associated delirium in a patient with renal failure treated with cisplatin and carboplatin. " * 4,
    "Lithium caused tremor.",
    "",
    "Naloxone reverses the antihypertensive effect of clonidine.",
]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_clear_error_without_onnxruntime(saved_ner_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` raises ImportError
    nlp = spacy.load(saved_ner_model)
    with pytest.raises(OnnxRuntimeMissing, match=r"pip install 'spacy-biobert\[onnx\]'"):
        export_onnx_encoders(nlp, "fp32")


def test_a_saved_onnx_encoder_without_onnxruntime_fails_clearly(saved_ner_model, monkeypatch):
    nlp = spacy.load(saved_ner_model)
    next(hf_layers(nlp.get_pipe("transformer").model)).attrs[ONNX_ATTR] = b"not read"
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(OnnxRuntimeMissing, match="onnxruntime"):
        nlp("Lithium caused tremor.")


def test_unknown_kind_is_refused(saved_ner_model):
    with pytest.raises(ValueError, match="fp32"):
        export_onnx(spacy.load(saved_ner_model).get_pipe("transformer").model.layers[0].shims[0]._model, "fp16")


needs_onnxruntime = pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None,
                                       reason="needs onnxruntime and onnx (extra [onnx])")


def ents(nlp):
    return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(TEXTS, batch_size=2)]


def vectors(nlp):
    return [doc._.trf_data.tensors[0] for doc in nlp.pipe(TEXTS, batch_size=2) if doc._.trf_data.tensors]


def relations(nlp):
    """Each doc's relation scores, rounded (fp32 ONNX and PyTorch differ in the last digits)."""
    return [[(r.head.start, r.tail.start, r.label, round(r.score, 4)) for r in doc._.get(RELATIONS_ATTR)]
            for doc in nlp.pipe(TEXTS, batch_size=2)]


def zero_torch_encoders(nlp) -> None:
    """Zero the PyTorch weights: what then still predicts as before ran the ONNX model."""
    for layer in encoder_layers(nlp):
        with torch.no_grad():
            for param in layer.shims[0]._model.parameters():
                param.zero_()


@needs_onnxruntime
def test_fp32_onnx_gives_the_torch_vectors_and_predictions(saved_ner_model):
    torch_nlp, onnx_nlp = spacy.load(saved_ner_model), spacy.load(saved_ner_model)
    assert export_onnx_encoders(onnx_nlp, "fp32") == 1
    zero_torch_encoders(onnx_nlp)
    for a, b in zip(vectors(torch_nlp), vectors(onnx_nlp)):
        numpy.testing.assert_allclose(a, b, atol=1e-4)
    assert ents(onnx_nlp) == ents(torch_nlp)


@needs_onnxruntime
def test_the_onnx_encoder_is_saved_and_reloaded_with_the_pipeline(saved_ner_model, tmp_path):
    nlp = spacy.load(saved_ner_model)
    expected = ents(nlp)
    export_onnx_encoders(nlp, "fp32")
    nlp.to_disk(tmp_path / "onnx")
    reloaded = spacy.load(tmp_path / "onnx")
    layer = next(hf_layers(reloaded.get_pipe("transformer").model))
    assert layer.attrs[ONNX_KIND_ATTR] == "fp32" and layer.attrs[ONNX_ATTR].startswith(b"\x08")  # ModelProto
    zero_torch_encoders(reloaded)
    assert ents(reloaded) == expected


@needs_onnxruntime
def test_int8_onnx_is_close_but_not_equal(saved_ner_model):
    torch_nlp, int8_nlp = spacy.load(saved_ner_model), spacy.load(saved_ner_model)
    export_onnx_encoders(int8_nlp, "int8")
    for a, b in zip(vectors(torch_nlp), vectors(int8_nlp)):
        assert not numpy.array_equal(a, b)
        assert numpy.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.98


@needs_onnxruntime
def test_an_inline_encoder_is_exported_too(joint_model):
    nlp = spacy.load(joint_model)
    expected = relations(nlp)
    assert export_onnx_encoders(nlp, "fp32") == len(encoder_layers(nlp)) >= 1
    assert ents(nlp) == ents(spacy.load(joint_model))
    zero_torch_encoders(nlp)
    assert relations(nlp) == expected


@needs_onnxruntime
def test_a_training_pass_drops_the_onnx_encoder(saved_ner_model):
    from spacy.training import Example

    nlp = spacy.load(saved_ner_model)
    export_onnx_encoders(nlp, "fp32")
    doc = nlp.make_doc("Lithium caused tremor.")
    example = Example.from_dict(doc, {"entities": [(0, 7, "Chemical"), (15, 21, "Disease")]})
    nlp.update([example], sgd=nlp.resume_training())
    layer = next(hf_layers(nlp.get_pipe("transformer").model))
    assert ONNX_ATTR not in layer.attrs and ONNX_KIND_ATTR not in layer.attrs


@needs_onnxruntime
def test_optimize_saves_an_int8_onnx_encoder(saved_ner_model, tmp_path):
    out = tmp_path / "onnx_int8"
    python("-m", "spacy", "biobert", "optimize", saved_ner_model, out, "--onnx", "int8")
    layer = next(hf_layers(spacy.load(out).get_pipe("transformer").model))
    assert layer.attrs[ONNX_KIND_ATTR] == "int8"
    assert spacy.load(out)("Lithium caused tremor.").text == "Lithium caused tremor."


def torch_weights(nlp) -> int:
    return sum(p.numel() for layer in encoder_layers(nlp) for p in layer.shims[0].module.parameters())


@needs_onnxruntime
def test_loaded_to_annotate_only_an_onnx_pipeline_frees_its_torch_weights_and_predicts_the_same(joint_model, tmp_path):
    nlp = spacy.load(joint_model)
    export_onnx_encoders(nlp, "int8")
    nlp.to_disk(tmp_path / "onnx")
    kept = spacy.load(tmp_path / "onnx")
    lean = load_pipeline(tmp_path / "onnx", annotate_only=True)
    assert torch_weights(kept) > 0 and torch_weights(lean) == 0
    assert ents(lean) == ents(kept) and relations(lean) == relations(kept)


@needs_onnxruntime
def test_a_pipeline_whose_torch_weights_were_freed_refuses_to_be_saved_or_trained(saved_ner_model, tmp_path):
    from spacy.training import Example

    nlp = spacy.load(saved_ner_model)
    export_onnx_encoders(nlp, "fp32")
    assert release_onnx_encoders(nlp) == 1
    with pytest.raises(TorchWeightsReleased, match="Load it again"):
        nlp.to_disk(tmp_path / "out")
    doc = nlp.make_doc("Lithium caused tremor.")
    example = Example.from_dict(doc, {"entities": [(0, 7, "Chemical"), (15, 21, "Disease")]})
    with pytest.raises(TorchWeightsReleased, match="train"):
        nlp.update([example], sgd=nlp.resume_training())


def test_without_an_onnx_encoder_the_torch_weights_stay(saved_ner_model):
    nlp = load_pipeline(saved_ner_model, annotate_only=True)
    assert release_onnx_encoders(nlp) == 0 and torch_weights(nlp) > 0
    assert nlp("Lithium caused tremor.").text == "Lithium caused tremor."
