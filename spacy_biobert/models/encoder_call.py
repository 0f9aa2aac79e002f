"""The transformer's encoder call: a thinc layer running the Hugging Face model over a :class:`WordpieceBatch`,
with inference-only speed-ups (length-sorted window batches, an int8 encoder, an ONNX Runtime encoder).

:func:`encoder_call` builds the layer that spacy-transformers' ``TransformerModel`` runs as ``layers[0]``: the same
node, shim and serialised form as spacy-transformers' ``HFWrapper``, with its own forward pass
(:func:`encoder_call_forward`). Training passes are thinc's PyTorch wrapper's, unchanged.

spacy-transformers pads every window of a batch to the longest one and runs the encoder once over the whole
padded batch. Windows hold a fixed number of *tokens* but a varying number of *wordpieces*, so a good part of
that work is padding. With ``sort_windows``, inference sorts the windows by wordpiece count and runs them in
chunks padded only to their own longest window (under ``torch.inference_mode``); the outputs are put back in the
original order.

With ``int8``, inference on CPU runs a copy of the encoder whose linear layers torch has dynamically quantised to
int8 (``torch.ao.quantization.quantize_dynamic``). The fp32 weights stay the ones trained and saved; the copy is
rebuilt whenever they change (a training step, loading weights). Quantisation changes the scores slightly: it is
opt-in (BENCHMARKS.md "Speed and memory" gives its speed and F1).

A layer whose attrs hold an ONNX model (``spacy biobert optimize --onnx``, :mod:`~spacy_biobert.models.onnx_encoder`)
runs it in ONNX Runtime at inference on CPU instead of the PyTorch encoder (and instead of the torch int8 copy); a
training pass drops it.

The settings live in the layer's ``attrs`` as objects thinc does not serialise: a pipeline runs as the config it
is loaded with says, whatever it was saved with (``spacy biobert optimize`` changes them there).
"""
import copy
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import numpy
import torch
from spacy_transformers.data_classes import HFObjects, WordpieceBatch
from spacy_transformers.layers.hf_shim import HFShim
from thinc.api import Model, xp2torch
from thinc.layers.pytorchwrapper import forward as pytorch_forward
from thinc.types import ArgsKwargs

from .onnx_encoder import OnnxSessions, check_torch_weights, drop_onnx

#: Padded wordpieces (windows x longest window) per encoder call on the sorted path.
DEFAULT_CHUNK_WORDPIECES = 4096


def sorted_chunks(lengths: List[int], max_padded: int) -> List[numpy.ndarray]:
    """Indices of ``lengths`` sorted by length, cut into chunks of at most ``max_padded`` padded items.

    A chunk's padded size is its longest length times its number of rows; a row longer than ``max_padded``
    gets a chunk of its own.
    """
    order = numpy.argsort(numpy.asarray(lengths), kind="stable")
    chunks, start = [], 0
    for end in range(1, len(order) + 1):
        if end == len(order) or lengths[order[end]] * (end + 1 - start) > max_padded:
            chunks.append(order[start:end])
            start = end
    return chunks


def select_rows(wps: WordpieceBatch, rows: numpy.ndarray) -> WordpieceBatch:
    """The batch of ``rows`` only, padded to its own longest row."""
    width = max(wps.lengths[i] for i in rows)
    return WordpieceBatch(
        strings=[wps.strings[i] for i in rows],
        input_ids=wps.input_ids[rows, :width],
        attention_mask=wps.attention_mask[rows, :width],
        lengths=[wps.lengths[i] for i in rows],
        token_type_ids=None if wps.token_type_ids is None else wps.token_type_ids[rows, :width],
    )


def merge_outputs(outputs: List, chunks: List[numpy.ndarray], n_rows: int, width: int):
    """One output in the original row order, ``last_hidden_state`` zero-padded to ``width``."""
    first = outputs[0]
    hidden = first.last_hidden_state
    merged = hidden.new_zeros((n_rows, width, hidden.shape[-1]))
    for rows, output in zip(chunks, outputs):
        index = torch.as_tensor(rows, device=hidden.device)
        state = output.last_hidden_state
        merged[index, : state.shape[1]] = state
    fields = {"last_hidden_state": merged}
    if getattr(first, "pooler_output", None) is not None:
        pooled = first.pooler_output.new_zeros((n_rows, first.pooler_output.shape[-1]))
        for rows, output in zip(chunks, outputs):
            pooled[torch.as_tensor(rows, device=pooled.device)] = output.pooler_output
        fields["pooler_output"] = pooled
    return type(first)(**fields)


class Int8Encoder:
    """A dynamically quantised copy of an encoder, rebuilt when the fp32 weights change.

    ``per_channel``: one int8 scale per output row of each weight matrix (torch's
    ``per_channel_dynamic_qconfig``) rather than one per matrix.
    """

    def __init__(self, per_channel: bool = True) -> None:
        self.per_channel = per_channel
        self._key: Optional[Tuple] = None
        self._module: Optional[torch.nn.Module] = None

    @staticmethod
    def _fingerprint(module: torch.nn.Module) -> Tuple:
        # a parameter's _version grows with every in-place change (optimizer steps, load_state_dict)
        return (id(module), tuple(p._version for p in module.parameters()))

    def get(self, module: torch.nn.Module) -> torch.nn.Module:
        """The int8 copy of ``module`` (fp32, on CPU)."""
        key = self._fingerprint(module)
        if key != self._key:
            qconfig = (torch.ao.quantization.per_channel_dynamic_qconfig if self.per_channel
                       else torch.ao.quantization.default_dynamic_qconfig)
            self._module = torch.ao.quantization.quantize_dynamic(
                copy.deepcopy(module).eval(), {torch.nn.Linear: qconfig}, dtype=torch.qint8
            )
            self._key = key
        return self._module


@dataclass(frozen=True)
class InferenceSettings:
    """How the encoder is run at inference (training passes ignore these).

    sort_windows: encode windows sorted by wordpiece count, in chunks of about ``chunk_wordpieces`` padded
        wordpieces, each padded only to its own longest window.
    int8: on CPU, run a dynamically quantised int8 copy of the encoder.
    int8_per_channel: int8 weight scales per output channel rather than per matrix.
    chunk_wordpieces: padded wordpieces per encoder call on the sorted path.
    """

    sort_windows: bool = True
    int8: bool = False
    int8_per_channel: bool = True
    chunk_wordpieces: int = DEFAULT_CHUNK_WORDPIECES


class EncoderShim(HFShim):
    """spacy-transformers' shim of the Hugging Face model, naming the torch module it runs."""

    #: Set by :func:`~.onnx_encoder.release_torch_weights`: the module's weights are freed (ONNX inference only).
    weights_released = False

    @property
    def module(self) -> Optional[torch.nn.Module]:
        """The fp32 encoder (``None`` before the pipeline is initialized or loaded)."""
        return self._model

    def to_bytes(self):
        check_torch_weights(self, "save this pipeline")
        return super().to_bytes()


#: ``attrs`` keys of the encoder call layer
SETTINGS, INT8_COPY, ONNX_SESSIONS = "inference_settings", "int8_copy", "onnx_sessions"


def encoder_call(hf_objects: HFObjects, settings: InferenceSettings, *, mixed_precision: bool = False,
                 grad_scaler_config: dict = {}) -> Model[WordpieceBatch, object]:
    """The layer running the encoder of ``hf_objects`` (spacy-transformers' ``HFWrapper`` with our forward pass).

    Args:
        hf_objects: the (not yet loaded) tokenizer and model settings, as spacy-transformers builds them.
        settings: how to run the encoder at inference.
        mixed_precision, grad_scaler_config: as spacy-transformers' ``TransformerModel``.
    """
    # a copy: HFShim writes "enabled" into the dict it is given
    shim = EncoderShim(hf_objects, mixed_precision=mixed_precision, grad_scaler_config=dict(grad_scaler_config))
    return Model(
        "hf-pytorch",
        encoder_call_forward,
        attrs={"convert_inputs": _torch_inputs, "convert_outputs": _model_output, SETTINGS: settings,
               INT8_COPY: Int8Encoder(settings.int8_per_channel), ONNX_SESSIONS: OnnxSessions()},
        shims=[shim],
        dims={"nI": None, "nO": None},
    )


def encoder_call_forward(layer: Model, wps: WordpieceBatch, is_train: bool) -> Tuple[object, Callable]:
    """Training, or inference without speed-ups: thinc's PyTorch wrapper's pass. Else as the layer's
    :class:`InferenceSettings` say."""
    settings: InferenceSettings = layer.attrs[SETTINGS]
    if is_train:
        check_torch_weights(layer.shims[0], "train this encoder")
        drop_onnx(layer)
        return pytorch_forward(layer, wps, is_train)
    if not (settings.sort_windows or settings.int8 or layer.attrs[ONNX_SESSIONS].get(layer)):
        check_torch_weights(layer.shims[0], "run the PyTorch encoder")
        return pytorch_forward(layer, wps, is_train)
    if not settings.sort_windows or len(wps) <= 1 or not _mergeable_outputs(layer.shims[0].module):
        return _predict(layer, wps), _no_backprop
    chunks = sorted_chunks(wps.lengths, settings.chunk_wordpieces)
    outputs = [_predict(layer, select_rows(wps, rows)) for rows in chunks]
    return merge_outputs(outputs, chunks, len(wps), wps.input_ids.shape[1]), _no_backprop


def _predict(layer: Model, wps: WordpieceBatch):
    """The encoder's output for ``wps``: the saved ONNX encoder's, or the int8 copy's where asked for (both on CPU
    only), else the fp32 encoder's."""
    shim = layer.shims[0]
    onnx = layer.attrs[ONNX_SESSIONS].get(layer)
    with torch.inference_mode():
        if onnx is not None:
            inputs, _ = _torch_inputs(layer, wps, False)
            return onnx(*inputs.args, **inputs.kwargs)
        check_torch_weights(layer.shims[0], "run the PyTorch encoder")
        if not (layer.attrs[SETTINGS].int8 and shim.device.type == "cpu"):
            return pytorch_forward(layer, wps, False)[0]
        inputs, _ = _torch_inputs(layer, wps, False)
        return layer.attrs[INT8_COPY].get(shim.module)(*inputs.args, **inputs.kwargs)


def _torch_inputs(layer: Model, wps: WordpieceBatch, is_train: bool) -> Tuple[ArgsKwargs, Callable]:
    """The encoder's keyword arguments for ``wps``, on the encoder's device (thinc's ``convert_inputs``)."""
    device = layer.shims[0].device
    kwargs = {"input_ids": xp2torch(wps.input_ids, device=device),
              "attention_mask": xp2torch(wps.attention_mask, device=device)}
    if wps.token_type_ids is not None:
        kwargs["token_type_ids"] = xp2torch(wps.token_type_ids, device=device)
    return ArgsKwargs(args=(), kwargs=kwargs), lambda d_inputs: []


def _model_output(layer: Model, inputs_outputs: Tuple, is_train: bool) -> Tuple[object, Callable]:
    """The encoder's output as it is, and the gradient of its last hidden state (thinc's ``convert_outputs``)."""
    _, output = inputs_outputs

    def backprop(d_output) -> ArgsKwargs:
        return ArgsKwargs(args=(output.last_hidden_state,), kwargs={"grad_tensors": d_output.values()})

    return output, backprop


def _mergeable_outputs(module: torch.nn.Module) -> bool:
    """Whether the encoder returns only what :func:`merge_outputs` puts back together (no hidden states,
    attentions or cache, which ``transformer_config`` can ask for)."""
    config = getattr(module, "config", None)
    return not any(getattr(config, flag, False) for flag in ("output_hidden_states", "output_attentions", "is_decoder"))


def _no_backprop(d_output: Dict) -> List:
    raise ValueError("The encoder's inference path (sorted windows, int8) has no backward pass.")
