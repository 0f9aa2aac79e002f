"""Inference throughput of the NER pipeline (configs/ner.cfg) end to end through ``nlp.pipe``, and the bare
encoder floor: the Hugging Face model's forward pass alone over non-overlapping windows of the same texts."""
import gc
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from common import ROOT, encoder_windows, timed_pipe

PRECISIONS = ("fp32", "fp16", "bf16")


def cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def reset_peak() -> None:
    """Forget the GPU's peak memory so far (no-op without CUDA)."""
    import torch

    if cuda():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def peak_mib() -> Optional[float]:
    """``torch.cuda.max_memory_allocated`` in MiB since the last :func:`reset_peak` (None without CUDA)."""
    import torch

    return torch.cuda.max_memory_allocated() / 2**20 if cuda() else None


def free_gpu() -> None:
    import torch

    gc.collect()
    if cuda():
        torch.cuda.empty_cache()


@contextmanager
def autocast_dtype(precision: str) -> Iterator[None]:
    """Make CUDA autocast regions without a dtype (spacy-transformers' ``mixed_precision``) use bf16 for "bf16"."""
    import torch

    previous = torch.get_autocast_dtype("cuda")
    torch.set_autocast_dtype("cuda", torch.bfloat16 if precision == "bf16" else torch.float16)
    try:
        yield
    finally:
        torch.set_autocast_dtype("cuda", previous)


def ner_pipeline(encoder: Path, precision: str, label_docs: List[Doc], chunk_wordpieces: int) -> Language:
    """configs/ner.cfg on ``encoder``, mixed precision unless fp32, ``chunk_wordpieces`` padded wordpieces per encoder
    call (``TransformerModel.v2``'s length-sorted inference path), initialised on ``label_docs`` (untrained head:
    its cost does not depend on its weights)."""
    overrides = {"components.transformer.model.name": str(encoder),
                 "components.transformer.model.mixed_precision": precision != "fp32",
                 "components.transformer.model.chunk_wordpieces": chunk_wordpieces}
    config = spacy.util.load_config(ROOT / "configs" / "ner.cfg", overrides=overrides, interpolate=True)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in label_docs]
    nlp.initialize(lambda: examples)
    return nlp


def measure(nlp: Language, texts: List[str], n_words: int, batch_size: int, max_items: int, precision: str) -> Dict:
    """One timed ``nlp.pipe`` pass over ``texts`` (after a warm-up batch): words/s and the GPU's peak memory."""
    nlp.get_pipe("transformer").cfg["max_batch_items"] = max_items
    with autocast_dtype(precision):
        list(nlp.pipe(texts[:batch_size], batch_size=batch_size))
        reset_peak()
        docs, seconds = timed_pipe(nlp, texts, batch_size)
    return {"batch_size": batch_size, "max_batch_items": max_items, "seconds": seconds,
            "words_per_s": n_words / seconds, "docs_per_s": len(texts) / seconds, "peak_gpu_mib": peak_mib(),
            "entities": sum(len(doc.ents) for doc in docs)}


def pipeline_workload(nlp: Language, texts: List[str]) -> Dict:
    """Windows and wordpieces (special tokens included) the pipeline's transformer encodes for ``texts``."""
    model = nlp.get_pipe("transformer").model
    if hasattr(model.attrs["get_spans"], "tokenizer"):  # WordpieceLimitedSpans: split windows as in forward
        model.attrs["get_spans"].tokenizer = model.tokenizer
    docs = list(nlp.tokenizer.pipe(texts))
    spans = [span for doc_spans in model.attrs["get_spans"](docs) for span in doc_spans]
    pieces = model.tokenizer([span.text for span in spans], add_special_tokens=True)["input_ids"]
    return {"windows": len(spans), "wordpieces": sum(len(row) for row in pieces)}


def floor_batches(folder: Path, texts: List[str], window: int, batch: int, device: str) -> List[tuple]:
    """The texts' wordpieces in non-overlapping windows of ``window`` (special tokens included), sorted by length,
    padded per batch of ``batch`` windows, as (input_ids, attention_mask) tensors already on ``device``."""
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder), use_fast=True)
    chunks = sorted(encoder_windows(tokenizer, texts, window), key=len)
    batches = []
    for start in range(0, len(chunks), batch):
        part = chunks[start:start + batch]
        width = max(len(c) for c in part)
        ids = torch.tensor([c + [tokenizer.pad_token_id] * (width - len(c)) for c in part], device=device)
        mask = torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in part], device=device)
        batches.append((ids, mask))
    return batches


def encoder_floor(folder: Path, texts: List[str], n_words: int, precision: str, window: int, batch: int) -> Dict:
    """Time the encoder's forward pass alone over ``texts`` (inputs staged on the device beforehand); call
    :func:`free_gpu` after it."""
    import torch
    from transformers import AutoModel

    device = "cuda" if cuda() else "cpu"
    model = AutoModel.from_pretrained(str(folder)).to(device).eval()
    batches = floor_batches(folder, texts, window, batch, device)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16

    def run(selected: List[tuple]) -> None:
        with torch.no_grad(), torch.autocast("cuda", dtype=dtype, enabled=precision != "fp32" and device == "cuda"):
            for ids, mask in selected:
                model(input_ids=ids, attention_mask=mask)
        if device == "cuda":
            torch.cuda.synchronize()

    run(batches[-1:])
    reset_peak()
    start = time.perf_counter()
    run(batches)
    seconds = time.perf_counter() - start
    wordpieces = sum(int(mask.sum()) for _, mask in batches)
    return {"precision": precision, "window": window, "batch": batch, "windows": sum(len(b[0]) for b in batches),
              "wordpieces": wordpieces, "seconds": seconds, "words_per_s": n_words / seconds,
              "wordpieces_per_s": wordpieces / seconds, "peak_gpu_mib": peak_mib()}
