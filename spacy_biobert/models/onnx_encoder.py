"""An ONNX Runtime copy of the encoder for inference on CPU, saved with the pipeline.

``spacy biobert optimize --onnx fp32|int8`` exports each encoder of a trained pipeline (the shared transformer's and
a component's inline one) with ``torch.onnx.export`` (dynamic batch and sequence axes), fuses its attention and
layer norms with ONNX Runtime's transformer optimizer (``model_type="bert"``) and, for ``int8``, quantises its
weights with ONNX Runtime's dynamic quantisation. The ONNX model is kept in the attrs of the transformer's
Hugging Face layer (:data:`ONNX_ATTR`), so it is written and read with the component's model file: a pipeline saved
with it runs the encoder in ONNX Runtime at inference on CPU, with no setting to pass. Training passes run the
PyTorch encoder as before and drop the ONNX copy, which would no longer match the weights.

onnxruntime and onnx are an optional extra (``pip install spacy-biobert[onnx]``); a pipeline holding an ONNX
encoder raises :class:`OnnxRuntimeMissing` at inference without them.
"""
import tempfile
from pathlib import Path
from typing import Optional

import numpy
import torch
from thinc.api import Model
from transformers.modeling_outputs import BaseModelOutput

#: Attr of the Hugging Face layer (``TransformerModel.layers[0]``) holding the serialized ONNX model.
ONNX_ATTR = "onnx_encoder"
#: What the attr's ONNX model is: ``"fp32"`` or ``"int8"`` (shown by ``spacy biobert optimize``).
ONNX_KIND_ATTR = "onnx_encoder_kind"
ONNX_KINDS = ("fp32", "int8")
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


class OnnxRuntimeMissing(ImportError):
    """onnxruntime (or onnx, for export) is not installed."""


def import_onnxruntime():
    """The ``onnxruntime`` module, or :class:`OnnxRuntimeMissing` saying how to install it."""
    try:
        import onnxruntime
    except ImportError as err:
        raise OnnxRuntimeMissing(
            "This needs onnxruntime (the pipeline's encoder was exported to ONNX by `spacy biobert optimize --onnx`): "
            "pip install 'spacy-biobert[onnx]', or save the pipeline again without --onnx."
        ) from err
    return onnxruntime


class _LastHiddenState(torch.nn.Module):
    """The encoder as a function of its three inputs, returning only ``last_hidden_state`` (what is exported)."""

    def __init__(self, encoder: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                            token_type_ids=token_type_ids).last_hidden_state


def export_onnx(encoder: torch.nn.Module, kind: str = "fp32") -> bytes:
    """The encoder (a Hugging Face BERT-like model on CPU) as a serialized, optimised ONNX model.

    Args:
        encoder: the PyTorch encoder; left unchanged.
        kind: ``"fp32"``, or ``"int8"`` for dynamically quantised weights (one scale per output channel).
    Raises:
        ValueError: for another ``kind``.
        OnnxRuntimeMissing: without onnxruntime and onnx.
    """
    if kind not in ONNX_KINDS:
        raise ValueError(f"ONNX encoder kind must be one of {ONNX_KINDS}; got {kind!r}.")
    import_onnxruntime()
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers import optimizer
    except ImportError as err:
        raise OnnxRuntimeMissing("Exporting to ONNX needs onnx too: pip install 'spacy-biobert[onnx]'.") from err
    config = encoder.config
    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {"batch": 0, "sequence": 1}
    dynamic = {name: {i: axis for axis, i in axes.items()} for name in (*INPUT_NAMES, "last_hidden_state")}
    was_training = encoder.training
    encoder.eval()
    with tempfile.TemporaryDirectory() as tmp:
        raw, fused, quantised = (Path(tmp) / name for name in ("raw.onnx", "fused.onnx", "int8.onnx"))
        try:
            with torch.no_grad():
                torch.onnx.export(_LastHiddenState(encoder), (sample, sample, torch.zeros_like(sample)), str(raw),
                                  input_names=list(INPUT_NAMES), output_names=["last_hidden_state"],
                                  dynamic_axes=dynamic, opset_version=OPSET, dynamo=False)
        finally:
            encoder.train(was_training)
        optimised = optimizer.optimize_model(str(raw), model_type="bert", num_heads=config.num_attention_heads,
                                             hidden_size=config.hidden_size)
        optimised.save_model_to_file(str(fused))
        if kind == "fp32":
            return fused.read_bytes()
        # the fused operators (com.microsoft domain) defeat shape inference: their outputs are fp32
        quantize_dynamic(str(fused), str(quantised), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        return quantised.read_bytes()


class OnnxEncoder(torch.nn.Module):
    """Runs a serialized ONNX encoder in ONNX Runtime with the PyTorch encoder's call signature.

    Stands in for the Hugging Face model in spacy-transformers' shim at inference; returns a ``BaseModelOutput``
    holding ``last_hidden_state`` only. ONNX Runtime uses as many threads as torch (``torch.get_num_threads()``).
    """

    def __init__(self, model: bytes) -> None:
        super().__init__()
        ort = import_onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, **_: object) -> BaseModelOutput:
        given = {"input_ids": input_ids,
                 "attention_mask": torch.ones_like(input_ids) if attention_mask is None else attention_mask,
                 "token_type_ids": torch.zeros_like(input_ids) if token_type_ids is None else token_type_ids}
        feed = {name: numpy.ascontiguousarray(given[name].cpu().numpy(), dtype=numpy.int64) for name in self.inputs}
        (hidden,) = self.session.run(["last_hidden_state"], feed)
        return BaseModelOutput(last_hidden_state=torch.from_numpy(hidden))


def hf_layers(model: Model):
    """The Hugging Face layers under ``model`` (the ``"hf-pytorch"`` layers that run an encoder)."""
    for node in model.walk():
        if node.name == "hf-pytorch" and node.shims:
            yield node


def attach_onnx(layer: Model, kind: str) -> None:
    """Export the encoder of the Hugging Face ``layer`` and keep the ONNX model in its attrs (saved with it)."""
    layer.attrs[ONNX_ATTR] = export_onnx(layer.shims[0].module, kind)
    layer.attrs[ONNX_KIND_ATTR] = kind


class TorchWeightsReleased(RuntimeError):
    """The layer's PyTorch weights were released (:func:`release_torch_weights`): it can only annotate on CPU."""


def release_torch_weights(layer: Model) -> bool:
    """Free the PyTorch weights of a Hugging Face ``layer`` that runs its saved ONNX model on CPU; return whether
    they were freed.

    Inference on CPU then runs the ONNX model alone, so the process holds the encoder once (its int8 or fp32 ONNX
    copy) instead of twice. Saving, training or moving the layer raises :class:`TorchWeightsReleased` afterwards:
    load the pipeline again for those. A layer without an ONNX model, or on a GPU, keeps its weights.
    """
    shim = layer.shims[0]
    if layer.attrs.get(ONNX_ATTR) is None or shim.module is None or shim.device.type != "cpu":
        return False
    with torch.no_grad():
        for param in shim.module.parameters():
            param.data = torch.empty(0, dtype=param.dtype)
    shim.weights_released = True
    return True


def check_torch_weights(shim, what: str) -> None:
    """Raise :class:`TorchWeightsReleased` naming ``what`` when the shim's PyTorch weights were released."""
    if getattr(shim, "weights_released", False):
        raise TorchWeightsReleased(
            f"Cannot {what}: this pipeline was loaded to annotate only (its encoder runs the saved ONNX model and the "
            "PyTorch weights were freed). Load it again with spacy.load to save, train or move it to a GPU.")


def drop_onnx(layer: Model) -> None:
    """Forget the layer's ONNX model (its weights are changing: a training pass)."""
    layer.attrs.pop(ONNX_ATTR, None)
    layer.attrs.pop(ONNX_KIND_ATTR, None)


class OnnxSessions:
    """The ONNX Runtime session of a layer's saved ONNX model, made once per model (not saved)."""

    def __init__(self) -> None:
        self._key: Optional[int] = None
        self._module: Optional[OnnxEncoder] = None

    def get(self, layer: Model) -> Optional[OnnxEncoder]:
        """The session of ``layer``'s ONNX model when it has one and runs on CPU, else ``None``."""
        saved = layer.attrs.get(ONNX_ATTR)
        if saved is None or layer.shims[0].device.type != "cpu":
            return None
        if self._key != id(saved):
            self._module, self._key = OnnxEncoder(saved), id(saved)
        return self._module
