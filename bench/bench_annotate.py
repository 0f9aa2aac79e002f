"""Throughput of ``spacy biobert annotate`` (local backend, JSONL in and out) against bare ``nlp.pipe`` over the
same texts, in one run (issue 11 target: annotate >= 0.9 x nlp.pipe).

The pipeline is configs/quick.cfg initialised (untrained) on CDR dev with the embedded MiniLM encoder -- compute
does not depend on the weights. Texts: CDR test (500 abstracts). Each system runs ``--repeats`` times, alternating,
and the best time of each is compared (the machine's noise only ever slows a run down).

Usage: python bench/bench_annotate.py [--repeats 2] [--limit 500]
"""
import argparse
import json
import time
from pathlib import Path

import spacy
import torch

from bench_memory import build_pipeline
from common import ROOT, machine, utc_now, write_section
from spacy_biobert.batch.inputs import read_inputs
from spacy_biobert.batch.local import run_local
from spacy_biobert.output.writers import JsonlWriter

TITLE = "## Batch annotation: `annotate` against bare `nlp.pipe`"


def test_jsonl(work: Path, limit: int) -> Path:
    """CDR test as ``{"id", "text"}`` lines."""
    path = work / "cdr_test.jsonl"
    docs = [d for d in read_inputs(ROOT / "assets" / "cdr" / "test.pubtator.gz", "pubtator")][:limit]
    path.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in docs), encoding="utf8")
    return path


def bare_pipe(nlp, path: Path, batch_size: int) -> float:
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf8").splitlines()]
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    return time.perf_counter() - start


def annotate(nlp, path: Path, out: Path, batch_size: int) -> float:
    start = time.perf_counter()
    with JsonlWriter(out) as writer:
        summary = run_local(nlp, read_inputs(path, "jsonl"), writer, batch_size=batch_size)
    assert summary.accounted() and summary.written > 0
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "memory")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "annotate.json")
    parser.add_argument("--benchmarks", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    nlp = spacy.load(build_pipeline(args.work))
    source = test_jsonl(args.work, args.limit)
    words = sum(len(nlp.make_doc(json.loads(line)["text"])) for line in source.read_text().splitlines())
    list(nlp.pipe(["Warm-up text about lithium and tremor."] * 4))
    times = {"nlp.pipe": [], "annotate (JSONL in/out)": []}
    for _ in range(args.repeats):
        times["nlp.pipe"].append(bare_pipe(nlp, source, args.batch_size))
        times["annotate (JSONL in/out)"].append(annotate(nlp, source, args.work / "out.jsonl", args.batch_size))
    best = {name: min(ts) for name, ts in times.items()}
    results = {"date": utc_now(), "machine": machine(), "threads": torch.get_num_threads(), "docs": args.limit,
               "words": words, "times_s": times, "best_s": best,
               "ratio": best["nlp.pipe"] / best["annotate (JSONL in/out)"]}
    results.update(repeats=args.repeats, batch_size=args.batch_size)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    text = section(results, f"python bench/bench_annotate.py --repeats {args.repeats}")
    write_section(args.benchmarks, text, TITLE)
    print(text)


def section(results: dict, command: str) -> str:
    """The BENCHMARKS.md section of one run."""
    m, words, best = results["machine"], results["words"], results["best_s"]
    lines = [TITLE, "",
             f"Command: `{command}` — date: {results['date']}. Machine: "
             f"{m['nproc']} cores ({m['cpu']}), no GPU, torch threads {results['threads']}. configs/quick.cfg initialised "
             f"untrained (embedded MiniLM), CDR test, {results['docs']} documents, {words:,} words, batch "
             f"{results.get('batch_size', 32)}; best of the alternating runs.", "",
             "| system | runs (s) | best (s) | words/s |", "| --- | --- | --- | --- |"]
    for name, ts in results["times_s"].items():
        lines.append(f"| {name} | {', '.join(f'{t:.1f}' for t in ts)} | {best[name]:.1f} | {words / best[name]:,.0f} |")
    lines += ["", f"annotate / nlp.pipe throughput: **{results['ratio']:.3f}** (target ≥ 0.9)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
