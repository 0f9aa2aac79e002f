"""Where the time goes: the shipped pipeline (``configs/e2e.cfg``) over CDR test abstracts, stage by stage.

The pipeline's steps run one after the other over all documents, in batches of ``--batch-size`` as ``nlp.pipe``
makes them: the tokenizer, each component's ``pipe``, then the output records (``doc_to_record``, what
``annotate`` and the server write), each timed. Inside the two encoders (the shared transformer's and the relation
head's own) timers wrapped around spacy-transformers' steps split the time into window building (the span getter,
wordpiece counts included), wordpiece tokenisation, wordpiece alignment and the encoder's forward pass; the rest
of a component's time is its own (sorting windows, pooling, the heads, decoding). ``--onnx`` exports the encoders
to ONNX first (not timed), to profile that path.

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``):
    python bench/bench_profile.py --model training/e2e --limit 200
"""
import contextlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import spacy
import torch
from spacy_transformers.layers import transformer_model
from thinc.shims.pytorch import PyTorchShim

from spacy_biobert.models.windows import WordpieceLimitedSpans
from spacy_biobert.output.record import doc_to_record, pipeline_kb
from spacy_biobert.pipeline.inference import export_onnx_encoders

from common import ROOT, keep_run, machine, n_cores, utc_now
from bench_speed import split_texts

TITLE = "## Speed: where the time goes"
ENCODER_STEPS = ("window building", "wordpiece tokenisation", "wordpiece alignment", "encoder forward")
#: What each pipeline step is called in the table.
STEP_NAMES = {"transformer": "NER encoder (shared transformer)", "biobert_ner": "NER head + decoding",
              "biobert_linker": "linker", "biobert_rel": "relation head (own encoder + pairs + scoring)"}


class StepTimer:
    """Seconds per (pipeline step, sub-step); :meth:`step` sets the step that the wrapped functions charge."""

    def __init__(self) -> None:
        self.seconds: Dict[str, Dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.current = ""

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.current = name
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name]["total"] += time.perf_counter() - start

    def wrap(self, sub: str, func, only=None):
        def timed(*args, **kwargs):
            if only is not None and not only(*args):
                return func(*args, **kwargs)
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[self.current][sub] += time.perf_counter() - start
        return timed


@contextlib.contextmanager
def encoder_timers(timer: StepTimer) -> Iterator[None]:
    """Wrap spacy-transformers' steps with ``timer`` while the block runs (a measurement, restored after)."""
    patches = [(transformer_model, "huggingface_tokenize", "wordpiece tokenisation", None),
               (transformer_model, "get_alignment", "wordpiece alignment", None),
               (transformer_model, "get_alignment_via_offset_mapping", "wordpiece alignment", None),
               (WordpieceLimitedSpans, "__call__", "window building", None),
               (PyTorchShim, "predict", "encoder forward", lambda shim, *_: hasattr(shim, "_hfmodel"))]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _, _ in patches]
    for owner, name, sub, only in patches:
        setattr(owner, name, timer.wrap(sub, getattr(owner, name), only))
    try:
        yield
    finally:
        for owner, name, func in saved:
            setattr(owner, name, func)


def profile(model: Path, texts: List[str], ids: List[str], batch_size: int, onnx: Optional[str]) -> Dict:
    """Time each step of ``model`` over ``texts``; return the rows (step, seconds) and totals."""
    nlp = spacy.load(model)
    if onnx:
        export_onnx_encoders(nlp, onnx)
    list(nlp.pipe(texts[:4], batch_size=batch_size))  # warm-up
    timer = StepTimer()
    with encoder_timers(timer):
        with timer.step("tokenizer"):
            docs = [nlp.make_doc(text) for text in texts]
        for name, proc in nlp.pipeline:
            with timer.step(name):
                docs = list(proc.pipe(docs, batch_size=batch_size)) if hasattr(proc, "pipe") else list(map(proc, docs))
        kb = pipeline_kb(nlp)
        with timer.step("record building"):
            for doc, doc_id in zip(docs, ids):
                doc_to_record(doc, doc_id, kb)
    rows = []
    for step, parts in timer.seconds.items():
        own = parts["total"] - sum(parts[s] for s in ENCODER_STEPS)
        label = STEP_NAMES.get(step, step)
        rows += [{"step": f"{label}: {sub}", "seconds": parts[sub]} for sub in ENCODER_STEPS if parts.get(sub)]
        rows.append({"step": f"{label}: rest" if any(parts.get(s) for s in ENCODER_STEPS) else label, "seconds": own})
    total = sum(parts["total"] for parts in timer.seconds.values())
    words = sum(len(text.split()) for text in texts)
    return {"rows": rows, "seconds": total, "docs": len(texts), "words": words, "words_per_s": round(words / total)}


def section(runs: List[Dict]) -> str:
    """One table: a row per step, a column pair (seconds, share) per profiled setting."""
    steps = list(dict.fromkeys(row["step"] for run in runs for row in run["rows"]))
    seconds = [{row["step"]: row["seconds"] for row in run["rows"]} for run in runs]
    first = runs[0]
    lines = [TITLE, "",
             f"Command: `{first['command']}` — date: {first['date']}. The shipped pipeline over the first "
             f"{first['docs']} CDR test abstracts ({first['words']:,} words), torch threads {first['threads']}.", "",
             "| step | " + " | ".join(f"{run['setting']}: s | share" for run in runs) + " |",
             "| --- |" + " --- | --- |" * len(runs)]
    for step in steps:
        cells = [f"{s[step]:.2f} | {100 * s[step] / run['seconds']:.1f} %" if step in s else "– | –"
                 for s, run in zip(seconds, runs)]
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    lines.append("| **total** (words/s) | " + " | ".join(
        f"**{run['seconds']:.2f}** ({run['words_per_s']:,}) | 100 %" for run in runs) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "training" / "e2e")
    parser.add_argument("--limit", type=int, default=200, help="first N test documents (0: all)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--onnx", choices=("fp32", "int8"), help="export the encoders to ONNX first")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "profile.json")
    args = parser.parse_args()
    torch.set_num_threads(n_cores())
    ids, texts = split_texts("test", args.limit)
    result = profile(args.model, texts, ids, args.batch_size, args.onnx)
    result.update(setting=f"ONNX {args.onnx}" if args.onnx else "PyTorch fp32 (default)", date=utc_now(),
                  machine=machine(), threads=n_cores(),
                  command=("python bench/bench_profile.py " + " ".join(sys.argv[1:])).strip())
    keep_run(args.out, result, ("setting",))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
