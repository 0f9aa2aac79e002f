"""Inference settings of a trained pipeline's transformers, as config overrides for ``spacy.load``.

A pipeline trained with ``spacy_biobert.TransformerModel.v1`` or ``.v2`` can be loaded with v2's inference
settings (length-sorted windows, an int8 encoder on CPU, other windows) without retraining: the weights are the
same, only how the encoder is run changes. ``spacy biobert optimize`` saves a copy of a pipeline with them.
"""
from typing import Any, Dict, Optional

from thinc.api import Config

TRANSFORMER_ARCHITECTURES = ("spacy_biobert.TransformerModel.v1", "spacy_biobert.TransformerModel.v2")
STRIDED_SPANS = "spacy-transformers.strided_spans.v1"


def transformer_components(config: Config) -> Dict[str, Dict[str, Any]]:
    """The components of ``config`` whose model is one of our transformer architectures, by name."""
    found = {}
    for name, component in config.get("components", {}).items():
        model = component.get("model", {}) if isinstance(component, dict) else {}
        if model.get("@architectures") in TRANSFORMER_ARCHITECTURES:
            found[name] = model
    return found


def inference_overrides(
    config: Config,
    *,
    sort_windows: bool = True,
    int8: bool = False,
    int8_per_channel: bool = True,
    window: Optional[int] = None,
    stride: Optional[int] = None,
) -> Dict[str, Any]:
    """Dotted overrides (``spacy.load(path, config=...)``) that give every transformer these settings.

    Args:
        config: the pipeline's config (``nlp.config``).
        sort_windows: encode windows sorted by length (same vectors; faster).
        int8: run a dynamically quantised int8 copy of the encoder on CPU (scores change slightly).
        int8_per_channel: int8 weight scales per output channel rather than per matrix.
        window, stride: strided windows of this many tokens (``None``: keep the pipeline's).
    Raises:
        ValueError: when the pipeline has no such transformer, or window/stride are given for a transformer
            whose windows are not ``strided_spans.v1``, or stride > window.
    """
    components = transformer_components(config)
    if not components:
        raise ValueError(f"No component with a {' or '.join(TRANSFORMER_ARCHITECTURES)} model in this pipeline.")
    overrides: Dict[str, Any] = {}
    for name, model in components.items():
        prefix = f"components.{name}.model"
        overrides.update({f"{prefix}.@architectures": TRANSFORMER_ARCHITECTURES[1],
                          f"{prefix}.sort_windows": sort_windows, f"{prefix}.int8_inference": int8,
                          f"{prefix}.int8_per_channel": int8_per_channel})
        if window is None and stride is None:
            continue
        spans = model.get("get_spans") or {}
        if spans.get("@span_getters") != STRIDED_SPANS:
            raise ValueError(f"Component '{name}': windows can only be changed for {STRIDED_SPANS} span getters.")
        own_window = spans["window"] if window is None else window  # per component: each keeps its own default
        own_stride = spans["stride"] if stride is None else stride
        if not 0 < own_stride <= own_window:
            raise ValueError(f"Need 0 < stride <= window; got window {own_window}, stride {own_stride}.")
        overrides.update({f"{prefix}.get_spans.window": own_window, f"{prefix}.get_spans.stride": own_stride})
    return overrides
