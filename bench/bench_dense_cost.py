"""What the linker's dense fallback costs, in a fresh process: RSS and linking words/s on the cached CDR dev entities
of ``bench_dense_linker.py``, the linker without and with its name encoder (a ``spacy biobert kb dense`` folder).
Adds ``cost`` to ``bench/results/dense_linker.json``.

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``, after ``bench_dense_linker.py``):
    python bench/bench_dense_cost.py --trigger 0.9
"""
import argparse
import json
import time
from pathlib import Path

import spacy
import torch

from spacy_biobert.kb import KnowledgeBase
from spacy_biobert.kb.dense import DenseNames

from bench_linker import rss_mb
from common import ROOT
from dense_entities import entities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trigger", type=float, required=True, help="dense_trigger of the linker with the encoder")
    parser.add_argument("--kb", type=Path, default=ROOT / "training" / "kb_train")
    parser.add_argument("--dense", type=Path, default=ROOT / "bench" / "runs" / "dense" / "encoder_tuned")
    parser.add_argument("--pipeline", type=Path, default=ROOT / "training" / "e2e")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "runs" / "dense" / "dev_entities.spacy")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dense_linker.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    egs, _ = entities(args.pipeline, args.corpus, args.cache)
    docs = [eg.predicted for eg in egs]
    words = sum(len(doc) for doc in docs)
    nlp = spacy.blank("en")
    linker = nlp.add_pipe("biobert_linker", config={"dense_trigger": 0.0})
    linker.set_kb(KnowledgeBase.from_disk(args.kb))
    linker.matcher  # noqa: B018 -- indexes built before the timing
    cost = {"words": words, "docs": len(docs), "rss_mb_start": rss_mb()}
    for name in ("tfidf", "dense"):
        if name == "dense":
            start = time.perf_counter()
            linker.set_dense(DenseNames.from_disk(args.dense))
            linker.dense_trigger = args.trigger
            linker.matcher  # noqa: B018
            cost["dense_load_s"] = time.perf_counter() - start
        cost[f"rss_mb_{name}"] = rss_mb()
        start = time.perf_counter()
        for doc in docs:
            linker(doc.copy())
        seconds = time.perf_counter() - start
        cost[f"words_per_s_{name}"] = words / seconds
        print(name, cost, flush=True)
    cost["trigger"] = args.trigger
    results = json.loads(args.out.read_text(encoding="utf8"))
    results["cost"] = cost
    args.out.write_text(json.dumps(results, indent=2), encoding="utf8")


if __name__ == "__main__":
    main()
