"""``spacy biobert optimize``: save a copy of a trained pipeline with inference speed settings."""
from pathlib import Path
from typing import Optional

import spacy
import typer
from wasabi import msg

from ..models.onnx_encoder import OnnxRuntimeMissing
from ..pipeline.inference import export_onnx_encoders, inference_overrides
from ._checks import load_or_exit
from ._paths import PIPELINE_FILES, refuse_overwriting_or_exit, refuse_replacing_or_exit, save_pipeline


def optimize_command(
    model: str = typer.Argument(..., help="Trained pipeline: package name or folder."),
    output: Path = typer.Argument(..., help="Folder for the optimised copy."),
    int8: bool = typer.Option(False, "--int8", help="Run the encoder in int8 on CPU (dynamic quantisation)."),
    sort_windows: bool = typer.Option(True, "--sort-windows/--no-sort-windows", help="Length-sorted windows."),
    window: Optional[int] = typer.Option(None, "--window", help="Tokens per transformer window."),
    stride: Optional[int] = typer.Option(None, "--stride", help="Tokens between window starts."),
    sentence_windows: Optional[int] = typer.Option(None, "--sentence-windows",
                                                   help="Windows of whole sentences packed up to this many tokens, "
                                                        "without overlap (instead of --window/--stride)."),
    onnx: Optional[str] = typer.Option(None, "--onnx", help="Save an ONNX Runtime copy of every encoder, 'fp32' or "
                                       "'int8', run at inference on CPU (needs spacy-biobert[onnx])."),
) -> None:
    """Copy MODEL to OUTPUT with the transformer's inference settings changed; the weights stay the same.

    Any pipeline with spacy_biobert.TransformerModel.v2 (or inline Tok2VecTransformer.v2) encoders works; the copy loads anywhere with
    spacy.load (annotate, serve, Ray). See BENCHMARKS.md "Speed and memory" for what each setting buys and costs.
    """
    refuse_overwriting_or_exit([output], [model])
    refuse_replacing_or_exit(output, PIPELINE_FILES)
    try:
        overrides = inference_overrides(load_or_exit(model).config, sort_windows=sort_windows, int8=int8,
                                        window=window, stride=stride, sentence_windows=sentence_windows)
    except ValueError as err:
        msg.fail(str(err), exits=1)
    nlp = spacy.load(model, config=overrides)
    if onnx is not None:
        try:
            exported = export_onnx_encoders(nlp, onnx)
        except (ValueError, OnnxRuntimeMissing) as err:
            msg.fail(str(err), exits=1)
    save_pipeline(nlp, output)
    for key, value in overrides.items():
        msg.text(f"{key} = {value}")
    if onnx is not None:
        msg.text(f"ONNX Runtime encoders ({onnx}): {exported}")
    msg.good(f"Saved the optimised pipeline to {output}")
