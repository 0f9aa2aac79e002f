"""Inference-only speed-ups of the transformer's encoder call: length-sorted window batches and an int8 encoder.

spacy-transformers pads every window of a batch to the longest one and runs the encoder once over the whole
padded batch. Windows hold a fixed number of *tokens* but a varying number of *wordpieces*, so a good part of
that work is padding. :func:`speed_up_encoder_call` wraps the transformer's Hugging Face layer so that, at
inference only, windows are sorted by wordpiece count and run in chunks padded only to their own longest window
(under ``torch.inference_mode``); the outputs are put back in the original order. Training passes are unchanged.

With ``int8=True``, inference on CPU runs a copy of the encoder whose linear layers torch has dynamically
quantised to int8 (``torch.ao.quantization.quantize_dynamic``). The fp32 weights stay the ones trained and
saved; the copy is rebuilt whenever they change (a training step, loading weights). Quantisation changes the
scores slightly: it is opt-in (BENCHMARKS.md "Speed and memory" gives its speed and F1).
"""
import copy
from typing import Callable, Dict, List, Optional, Tuple

import numpy
import torch
from spacy_transformers.data_classes import WordpieceBatch
from thinc.api import Model

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


def _mergeable_outputs(module: torch.nn.Module) -> bool:
    """Whether the encoder returns only what :func:`merge_outputs` puts back together (no hidden states,
    attentions or cache, which ``transformer_config`` can ask for)."""
    config = getattr(module, "config", None)
    return not any(getattr(config, flag, False) for flag in ("output_hidden_states", "output_attentions", "is_decoder"))


def speed_up_encoder_call(model: Model, *, sort_windows: bool, int8: bool, int8_per_channel: bool = True,
                          chunk_wordpieces: int = DEFAULT_CHUNK_WORDPIECES) -> None:
    """Wrap the forward pass of ``model`` (the transformer's Hugging Face layer) in place.

    Args:
        model: ``TransformerModel.layers[0]``, the layer that runs the Hugging Face model over a
            :class:`WordpieceBatch`.
        sort_windows: at inference, run windows sorted by length in chunks padded only to their longest.
        int8: at inference on CPU, run a dynamically quantised int8 copy of the encoder.
        int8_per_channel: int8 weight scales per output channel (else one per matrix).
        chunk_wordpieces: padded wordpieces per chunk on the sorted path.
    """
    if not (sort_windows or int8):
        return
    inner = model._func
    quantised = Int8Encoder(int8_per_channel) if int8 else None

    def run(layer: Model, wps: WordpieceBatch) -> Tuple:
        shim = layer.shims[0]
        fp32 = shim._model
        use_int8 = quantised is not None and next(fp32.parameters()).device.type == "cpu"
        if use_int8:
            shim._model = quantised.get(fp32)
        try:
            with torch.inference_mode():
                return inner(layer, wps, False)
        finally:
            shim._model = fp32

    def forward(layer: Model, wps: WordpieceBatch, is_train: bool) -> Tuple[object, Callable]:
        if is_train:
            return inner(layer, wps, is_train)
        if not sort_windows or len(wps) <= 1 or not _mergeable_outputs(layer.shims[0]._model):
            return run(layer, wps)
        chunks = sorted_chunks(wps.lengths, chunk_wordpieces)
        outputs = [run(layer, select_rows(wps, rows))[0] for rows in chunks]
        merged = merge_outputs(outputs, chunks, len(wps), wps.input_ids.shape[1])
        return merged, _no_backprop

    model._func = forward


def _no_backprop(d_output: Dict) -> List:
    raise ValueError("The length-sorted encoder path is for inference only; it has no backward pass.")
