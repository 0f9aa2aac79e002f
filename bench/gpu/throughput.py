"""The ``throughput`` job of bench/bench_gpu.py: words/s end to end through ``nlp.pipe`` per precision (fp32; fp16
and bf16 autocast through spacy-transformers' ``mixed_precision``) and batch size, the GPU's peak memory, and the
encoder floor: the Hugging Face forward pass alone of the pipeline's own encoders over non-overlapping windows of
the same texts (inputs already on the device). A system is a pipeline folder (a trained pipeline, loaded with the
precision set on every transformer) or ``configs/ner.cfg`` on an encoder, initialised untrained (its cost does not
depend on its weights)."""
import gc
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import spacy
from spacy.language import Language
from spacy.training import Example
from spacy_transformers.layers import TransformerModel

from common import ROOT, encoder_windows, timed_pipe
from spacy_biobert.cli.convert import conversion_nlp
from spacy_biobert.corpus import ConversionStats, build_docs, read_pubtator
from spacy_biobert.pipeline.inference import transformer_models

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


def texts_and_words(cdr: Path, docs: int) -> Tuple[List[str], int]:
    """The CDR test texts (the first ``docs``; 0: all) and their word count (our tokenizer's tokens)."""
    texts = [source.text for source in read_pubtator(cdr / "test.pubtator.gz")][: docs or None]
    return texts, sum(len(doc) for doc in conversion_nlp().tokenizer.pipe(texts))


def label_examples(cdr: Path, docs: int = 20) -> List[Example]:
    """Gold examples of the first ``docs`` CDR train documents, to initialise an untrained ``configs/ner.cfg``."""
    sources = list(read_pubtator(cdr / "train.pubtator.gz"))[:docs]
    return [Example(doc.copy(), doc) for doc in build_docs(conversion_nlp(), sources, ConversionStats())]


def precision_overrides(config, precision: str, items: int) -> Dict[str, object]:
    """Mixed precision (unless fp32) and ``items`` padded wordpieces per encoder call on every transformer."""
    overrides: Dict[str, object] = {}
    for prefix in transformer_models(config):
        overrides.update({f"{prefix}.mixed_precision": precision != "fp32", f"{prefix}.chunk_wordpieces": items})
    return overrides


def load_system(system: Dict, precision: str, items: int, examples: List[Example]) -> Language:
    """``system["pipeline"]`` (a folder) or ``configs/ner.cfg`` on ``system["encoder"]``, initialised on
    ``examples``; ``items`` is also the transformer components' ``max_batch_items``."""
    path = Path(system["pipeline"]) / "config.cfg" if "pipeline" in system else ROOT / "configs" / "ner.cfg"
    overrides = precision_overrides(spacy.util.load_config(path), precision, items)
    if "pipeline" in system:
        nlp = spacy.load(system["pipeline"], config=overrides)
    else:
        overrides["components.transformer.model.name"] = str(system["encoder"])
        config = spacy.util.load_config(path, overrides=overrides, interpolate=True)
        nlp = spacy.util.load_model_from_config(config, auto_fill=True)
        nlp.initialize(lambda: [Example(nlp.make_doc(eg.text), eg.reference) for eg in examples])
    for _, pipe in nlp.pipeline:
        if "max_batch_items" in getattr(pipe, "cfg", {}):
            pipe.cfg["max_batch_items"] = items
    return nlp


def encoders(nlp: Language) -> List[TransformerModel]:
    """The pipeline's transformers (a shared one and components' inline ones), each once."""
    found = {}
    for _, pipe in nlp.pipeline:
        model = getattr(pipe, "model", None)
        for node in model.walk() if model is not None else ():
            if isinstance(node, TransformerModel):
                found.setdefault(id(node), node)
    return list(found.values())


def workload(nlp: Language, texts: List[str]) -> Dict[str, int]:
    """Windows and wordpieces (special tokens included) the pipeline's transformers encode for ``texts``."""
    docs = list(nlp.tokenizer.pipe(texts))
    windows = wordpieces = 0
    for model in encoders(nlp):
        if hasattr(model.attrs["get_spans"], "tokenizer"):  # WordpieceLimitedSpans: split windows as in forward
            model.attrs["get_spans"].tokenizer = model.tokenizer
        spans = [span for doc_spans in model.attrs["get_spans"](docs) for span in doc_spans]
        windows += len(spans)
        wordpieces += sum(len(row) for row in model.tokenizer([s.text for s in spans])["input_ids"])
    return {"windows": windows, "wordpieces": wordpieces}


def measure(nlp: Language, texts: List[str], n_words: int, batch_size: int, precision: str) -> Dict:
    """One timed ``nlp.pipe`` pass over ``texts`` (after a warm-up batch): words/s and the GPU's peak memory."""
    with autocast_dtype(precision):
        list(nlp.pipe(texts[:batch_size], batch_size=batch_size))
        reset_peak()
        docs, seconds = timed_pipe(nlp, texts, batch_size)
    return {"batch_size": batch_size, "seconds": seconds, "words_per_s": n_words / seconds,
            "docs_per_s": len(texts) / seconds, "peak_gpu_mib": peak_mib(), "entities": sum(len(d.ents) for d in docs)}


def floor_batches(tokenizer, texts: List[str], window: int, batch: int, device: str) -> List[tuple]:
    """The texts' wordpieces in non-overlapping windows of ``window`` (special tokens included), sorted by length,
    padded per batch of ``batch`` windows, as (input_ids, attention_mask) tensors already on ``device``."""
    import torch

    chunks = sorted(encoder_windows(tokenizer, texts, window), key=len)
    batches = []
    for start in range(0, len(chunks), batch):
        part = chunks[start:start + batch]
        width = max(len(c) for c in part)
        ids = torch.tensor([c + [tokenizer.pad_token_id] * (width - len(c)) for c in part], device=device)
        mask = torch.tensor([[1] * len(c) + [0] * (width - len(c)) for c in part], device=device)
        batches.append((ids, mask))
    return batches


def encoder_floor(nlp: Language, texts: List[str], n_words: int, precision: str, window: int, batch: int) -> Dict:
    """Time the forward passes alone of every transformer of ``nlp`` over ``texts`` (inputs staged on the device
    beforehand): the least the pipeline could take."""
    import torch

    device = "cuda" if cuda() else "cpu"
    seconds = wordpieces = 0.0
    reset_peak()
    for model in encoders(nlp):
        hf = model.transformer.eval()
        batches = floor_batches(model.tokenizer, texts, window, batch, device)

        def run(selected: List[tuple]) -> None:
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16 if precision == "bf16" else torch.float16,
                                                 enabled=precision != "fp32" and device == "cuda"):
                for ids, mask in selected:
                    hf(input_ids=ids, attention_mask=mask)
            if device == "cuda":
                torch.cuda.synchronize()

        run(batches[-1:])
        start = time.perf_counter()
        run(batches)
        seconds += time.perf_counter() - start
        wordpieces += sum(int(mask.sum()) for _, mask in batches)
    return {"precision": precision, "window": window, "batch": batch, "encoders": len(encoders(nlp)),
            "wordpieces": int(wordpieces), "seconds": seconds, "words_per_s": n_words / seconds,
            "wordpieces_per_s": wordpieces / seconds, "peak_gpu_mib": peak_mib()}
