"""Loading a pipeline for the commands, the Ray actors and the server: one function, :func:`load_pipeline`.

It is ``spacy.load`` plus three things: when loading a folder fails, the error names the file that is missing or
damaged (:mod:`.model_files`); a relation threshold given on the command line becomes every relation
component's ``threshold`` setting (:func:`~.rel.set_relation_threshold`, through :func:`~.settings.set_setting`);
and a pipeline loaded to annotate only holds its ONNX encoders without their PyTorch weights
(:func:`~.inference.release_onnx_encoders`).
"""
from pathlib import Path
from typing import Any, Optional, Union

import spacy
from spacy.language import Language

from .inference import release_onnx_encoders
from .model_files import DamagedModelError, find_damaged
from .rel import set_relation_threshold


def load_pipeline(model: Union[str, Path], relation_threshold: Optional[float] = None, annotate_only: bool = False,
                  **kwargs: Any) -> Language:
    """``spacy.load(model, **kwargs)``, with ``relation_threshold`` (when given) as every relation component's
    threshold.

    With ``annotate_only`` (the pipeline will annotate, never be saved or trained: ``annotate``, the server, the
    Ray actors), encoders that run a saved ONNX model on CPU (``spacy biobert optimize --onnx``) free their
    PyTorch weights, so the process holds each encoder once
    (:func:`~spacy_biobert.models.onnx_encoder.release_torch_weights`).

    Raises:
        DamagedModelError: a file of the folder missing or damaged (the original error chained).
        ValueError: a relation threshold for a pipeline without relation component, or not in [0, 1].
    """
    try:
        nlp = spacy.load(model, **kwargs)
    except DamagedModelError:
        raise
    except Exception as err:
        folder = Path(model)
        found = find_damaged(folder) if folder.is_dir() else None
        if found is None:
            raise
        raise found from err
    if relation_threshold is not None:
        set_relation_threshold(nlp, relation_threshold)
    if annotate_only:
        release_onnx_encoders(nlp)
    return nlp

