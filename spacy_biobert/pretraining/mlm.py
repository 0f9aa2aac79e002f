"""Continued masked-LM pretraining of a BERT-family checkpoint (domain- or task-adaptive pretraining).

:func:`pretrain_mlm` loads any checkpoint that :func:`~spacy_biobert.models.encoder.resolve_encoder_name`
accepts (``pkg:PACKAGE``, a folder, a hub id) with ``AutoModelForMaskedLM`` -- a checkpoint saved without an
MLM head (a bare ``BertModel``, such as the embedded sentence-transformers MiniLM) gets a newly initialised one,
reported in :attr:`PretrainResult.head_initialised` -- and trains it with a plain torch loop: AdamW, linear
warm-up and decay, gradient clipping, and ``DataCollatorForLanguageModeling`` masking (80 % ``[MASK]``,
10 % random, 10 % kept). The result is saved with ``save_pretrained`` (model + tokenizer), so a config takes it
as ``[components.transformer.model] name = OUTPUT_DIR``, with ``pretrain_log.json`` beside it.
"""
import json
import logging
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, Union

from ..models.encoder import EncoderNotFoundError, resolve_encoder_name
from .texts import PathLike, PretrainingInputError, chunk_texts, read_texts

logger = logging.getLogger("spacy_biobert.pretraining")
LOG_FILE = "pretrain_log.json"
#: Prefix of the parameter names of a BERT MLM head (``BertForMaskedLM.cls``).
HEAD_PREFIXES = ("cls.", "lm_head.", "vocab_", "predictions.")


@dataclass
class MLMConfig:
    """Settings of a pretraining run (defaults: a short CPU-sized run)."""

    steps: int = 500
    batch_size: int = 16
    max_length: int = 128
    learn_rate: float = 1e-4
    mlm_probability: float = 0.15
    seed: int = 0
    warmup: float = 0.06  # share of the steps spent warming up linearly
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    gpu_id: int = -1  # -1: CPU

    def check(self) -> None:
        """Raise ``ValueError`` on an impossible setting."""
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError(f"steps and batch_size must be at least 1 (got {self.steps}, {self.batch_size})")
        if not 0.0 < self.mlm_probability < 1.0:
            raise ValueError(f"mlm_probability must be in (0, 1), got {self.mlm_probability}")
        if self.learn_rate <= 0:
            raise ValueError(f"learn_rate must be positive, got {self.learn_rate}")


@dataclass
class PretrainResult:
    """What a run did; written to ``pretrain_log.json`` in the output folder."""

    base: str
    resolved: str
    output_dir: str
    head_initialised: bool
    config: dict
    documents: int
    blocks: int
    wordpieces: int
    epochs: float
    seconds: float
    losses: List[Tuple[int, float]] = field(default_factory=list)  # (step, mean loss since the last point)

    @property
    def first_loss(self) -> float:
        return self.losses[0][1]

    @property
    def last_loss(self) -> float:
        return self.losses[-1][1]


def load_mlm_model(name: str):
    """Load ``name`` as a masked LM.

    Returns:
        ``(model, tokenizer, resolved name, head_initialised)``; ``head_initialised`` is true when the
        checkpoint had no MLM head weights (a new head was initialised; logged as a warning).
    Raises:
        EncoderNotFoundError: the name cannot be resolved or loaded.
    """
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    resolved = resolve_encoder_name(name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(resolved)
        model, info = AutoModelForMaskedLM.from_pretrained(resolved, output_loading_info=True)
    except (OSError, ValueError) as err:
        raise EncoderNotFoundError(f"Encoder '{name}' (resolved to '{resolved}') cannot be loaded as a "
                                   f"masked LM: {err}") from err
    missing = [key for key in info.get("missing_keys", []) if key.startswith(HEAD_PREFIXES)]
    if missing:
        logger.warning("%s has no MLM head: %d head weights newly initialised (%s...)", name, len(missing),
                       ", ".join(missing[:3]))
    if tokenizer.mask_token is None:
        raise EncoderNotFoundError(f"Encoder '{name}': its tokenizer has no mask token; masked LM impossible")
    return model, tokenizer, resolved, bool(missing)


def _schedule(config: MLMConfig) -> Callable[[int], float]:
    warm = max(1, int(config.steps * config.warmup))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (config.steps - step) / max(1, config.steps - warm))

    return factor


def _batches(n_blocks: int, batch_size: int, rng: random.Random):
    """Endless shuffled index batches over the blocks (reshuffled every pass)."""
    while True:
        order = list(range(n_blocks))
        rng.shuffle(order)
        for start in range(0, n_blocks, batch_size):
            yield order[start:start + batch_size]


def pretrain_mlm(
    texts: Union[PathLike, Sequence[PathLike], Sequence[str]],
    base: str,
    output_dir: PathLike,
    config: Optional[MLMConfig] = None,
    progress: Optional[Callable[[int, float], None]] = None,
    from_paths: bool = True,
    fmt: Optional[str] = None,
    write_to: Optional[PathLike] = None,
) -> PretrainResult:
    """Continue masked-LM training of ``base`` on ``texts`` and save the checkpoint to ``output_dir``.

    Args:
        texts: input path(s) (see :mod:`spacy_biobert.corpus.documents`), or the documents themselves when
            ``from_paths`` is false.
        base: encoder name (``pkg:PACKAGE``, a checkpoint folder or a hub id).
        output_dir: folder for the checkpoint (``save_pretrained``: model, tokenizer) and ``pretrain_log.json``.
        config: run settings (default :class:`MLMConfig`).
        progress: called as ``progress(step, loss)`` after every step.
        from_paths: whether ``texts`` are paths (default) or documents.
        fmt: input format of the paths (default: guessed from each suffix; see ``read_texts``).
        write_to: write the folder here instead of ``output_dir``, which the log still names: a temporary
            folder that the caller moves to ``output_dir`` once complete (``spacy biobert pretrain-mlm`` does).
    Returns:
        The :class:`PretrainResult`, also written to ``output_dir/pretrain_log.json``.
    Raises:
        PretrainingInputError: unreadable input or no text; EncoderNotFoundError: ``base`` cannot be loaded;
        ValueError: a bad setting.
    """
    import torch
    from transformers import DataCollatorForLanguageModeling

    config = config or MLMConfig()
    config.check()
    if from_paths:
        docs = read_texts(texts, fmt)
    else:
        docs = [t for t in ([texts] if isinstance(texts, str) else texts) if t.strip()]
    if not docs:
        raise PretrainingInputError("no text to pretrain on")
    torch.manual_seed(config.seed)
    model, tokenizer, resolved, head_new = load_mlm_model(base)
    limit = getattr(model.config, "max_position_embeddings", config.max_length)
    if config.max_length > limit:
        raise ValueError(f"max_length {config.max_length} exceeds the encoder's {limit} positions")
    blocks = chunk_texts(docs, tokenizer, config.max_length)
    device = torch.device("cpu" if config.gpu_id < 0 else f"cuda:{config.gpu_id}")
    model.to(device).train()
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=config.mlm_probability,
                                               return_tensors="pt")
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
         "weight_decay": config.weight_decay},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=config.learn_rate)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(config))
    every = max(1, config.steps // 50)
    losses: List[Tuple[int, float]] = []
    window: List[float] = []
    batches = _batches(len(blocks), config.batch_size, random.Random(config.seed))
    started = time.perf_counter()
    for step in range(1, config.steps + 1):
        batch = collator([{"input_ids": blocks[i]} for i in next(batches)])
        batch = {key: value.to(device) for key, value in batch.items()}
        loss = model(**batch).loss
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"masked-LM loss is {loss.item()} at step {step}; lower --learn-rate")
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        window.append(loss.item())
        if step % every == 0 or step == config.steps:
            losses.append((step, round(sum(window) / len(window), 5)))
            window = []
        if progress is not None:
            progress(step, loss.item())
    seconds = time.perf_counter() - started
    output = Path(output_dir if write_to is None else write_to)
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(output))
    tokenizer.save_pretrained(str(output))
    result = PretrainResult(
        base=base, resolved=resolved, output_dir=str(output_dir), head_initialised=head_new, config=asdict(config),
        documents=len(docs), blocks=len(blocks), wordpieces=sum(len(b) for b in blocks),
        epochs=round(config.steps * config.batch_size / len(blocks), 3), seconds=round(seconds, 2), losses=losses,
    )
    (output / LOG_FILE).write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf8")
    return result
