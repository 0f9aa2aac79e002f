"""Inference settings of a trained pipeline's transformers, as config overrides for ``spacy.load``.

A pipeline trained with ``spacy_biobert.TransformerModel.v2`` can be loaded with other inference settings
(length-sorted windows, an int8 encoder on CPU, other windows) without retraining: the weights are the same, only
how the encoder is run changes. ``spacy biobert optimize`` saves a copy of a pipeline with them. Inline encoders (a
component's ``tok2vec`` of ``spacy_biobert.Tok2VecTransformer.v2``, e.g. a relation head's own encoder after
``replace_listeners``) get the same settings.
"""
from typing import Any, Dict, Optional

from thinc.api import Config, Model

TRANSFORMER_ARCHITECTURE = "spacy_biobert.TransformerModel.v2"
INLINE_ARCHITECTURE = "spacy_biobert.Tok2VecTransformer.v2"
STRIDED_SPANS = "spacy-transformers.strided_spans.v1"
SENTENCE_WINDOWS = "spacy_biobert.sentence_windows.v1"


def transformer_models(config: Config) -> Dict[str, Dict[str, Any]]:
    """Our encoders in ``config``, by the dotted path of their model config: the models of transformer components
    and components' inline ``tok2vec`` encoders."""
    found = {}
    for name, component in config.get("components", {}).items():
        model = component.get("model", {}) if isinstance(component, dict) else {}
        if model.get("@architectures") == TRANSFORMER_ARCHITECTURE:
            found[f"components.{name}.model"] = model
        tok2vec = model.get("tok2vec") if isinstance(model, dict) else None
        if isinstance(tok2vec, dict) and tok2vec.get("@architectures") == INLINE_ARCHITECTURE:
            found[f"components.{name}.model.tok2vec"] = tok2vec
    return found


def inference_overrides(
    config: Config,
    *,
    sort_windows: bool = True,
    int8: bool = False,
    int8_per_channel: bool = True,
    window: Optional[int] = None,
    stride: Optional[int] = None,
    sentence_windows: Optional[int] = None,
) -> Dict[str, Any]:
    """Dotted overrides (``spacy.load(path, config=...)``) that give every transformer (shared or inline) these
    settings.

    Args:
        config: the pipeline's config (``nlp.config``).
        sort_windows: encode windows sorted by length (same vectors; faster).
        int8: run a dynamically quantised int8 copy of the encoder on CPU (scores change slightly).
        int8_per_channel: int8 weight scales per output channel rather than per matrix.
        window, stride: strided windows of this many tokens (``None``: keep the pipeline's).
        sentence_windows: instead, windows of whole sentences packed up to this many tokens, without overlap
            (``spacy_biobert.sentence_windows.v1``; sentence boundaries from a component before the encoder).
    Raises:
        ValueError: when the pipeline has no such transformer, or window/stride are given for a transformer
            whose windows are not ``strided_spans.v1``, or stride > window, or window/stride are given with
            sentence windows.
    """
    if sentence_windows is not None and (window is not None or stride is not None):
        raise ValueError("Give either sentence windows or a window/stride, not both.")
    models = transformer_models(config)
    if not models:
        raise ValueError(f"No component with a {TRANSFORMER_ARCHITECTURE} model (or an inline {INLINE_ARCHITECTURE} "
                         f"tok2vec) in this pipeline.")
    overrides: Dict[str, Any] = {}
    for prefix, model in models.items():
        overrides.update({f"{prefix}.sort_windows": sort_windows, f"{prefix}.int8_inference": int8,
                          f"{prefix}.int8_per_channel": int8_per_channel})
        if sentence_windows is not None:
            overrides[f"{prefix}.get_spans"] = {"@span_getters": SENTENCE_WINDOWS, "max_tokens": sentence_windows}
            continue
        if window is None and stride is None:
            continue
        spans = model.get("get_spans") or {}
        if spans.get("@span_getters") != STRIDED_SPANS:
            raise ValueError(f"'{prefix}': windows can only be changed for {STRIDED_SPANS} span getters.")
        own_window = spans["window"] if window is None else window  # per component: each keeps its own default
        own_stride = spans["stride"] if stride is None else stride
        if not 0 < own_stride <= own_window:
            raise ValueError(f"Need 0 < stride <= window; got window {own_window}, stride {own_stride}.")
        overrides.update({f"{prefix}.get_spans.window": own_window, f"{prefix}.get_spans.stride": own_stride})
    return overrides


def export_onnx_encoders(nlp, kind: str) -> int:
    """Export every encoder of ``nlp`` (shared and inline transformers) to ONNX (``"fp32"`` or ``"int8"``) and keep
    it with the pipeline, so that inference on CPU runs it in ONNX Runtime
    (:mod:`~spacy_biobert.models.onnx_encoder`); return how many encoders were exported.

    Raises:
        OnnxRuntimeMissing: without onnxruntime and onnx.
        ValueError: for another ``kind``, or when the pipeline has no Hugging Face encoder.
    """
    from ..models.onnx_encoder import attach_onnx

    layers = encoder_layers(nlp)
    if not layers:
        raise ValueError("No transformer encoder in this pipeline to export to ONNX.")
    for layer in layers:
        attach_onnx(layer, kind)
    return len(layers)


def release_onnx_encoders(nlp) -> int:
    """Free the PyTorch weights of every encoder of ``nlp`` that runs its saved ONNX model on CPU
    (:func:`~spacy_biobert.models.onnx_encoder.release_torch_weights`: ``nlp`` can then annotate, not be saved or
    trained), give the freed heap memory back to the operating system, and return how many were freed."""
    from ..heap import release_free_memory
    from ..models.onnx_encoder import release_torch_weights

    released = sum(release_torch_weights(layer) for layer in encoder_layers(nlp))
    if released:
        release_free_memory()
    return released


def encoder_layers(nlp) -> list:
    """The Hugging Face encoder layers of every component of ``nlp`` (shared transformers and inline encoders)."""
    from ..models.onnx_encoder import hf_layers

    return [layer for _, proc in nlp.components if isinstance(getattr(proc, "model", None), Model)
            for layer in hf_layers(proc.model)]
