"""Throughput of ``annotate`` on the local backend vs the Ray backend, in the same run (issue 11, scale-out on Ray).

Input: the 500 CDR test abstracts (assets/cdr/test.pubtator.gz written as JSONL). Pipeline: configs/quick.cfg
(sentencizer + transformer + biobert_ner + biobert_rel, embedded MiniLM encoder) initialised on CDR dev and not
trained -- weights do not change time. Each configuration runs in a fresh process and annotates the JSONL into a
JSONL file; the wall time covers everything the command does (Ray: starting the local cluster, loading one
pipeline per actor, reading, annotating, writing). Every Ray output is checked to equal the local output by id.

Usage: python bench/bench_ray.py [--work bench/runs/ray] [--out bench/results/ray.json] [--section-only]
"""
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import torch

from bench_memory import build_pipeline
from common import ROOT, machine, results_parser, utc_now, write_section

TITLE = "## Ray backend"
PUBMED = 36_000_000
#: Assumed (not measured) abstracts/s of one GPU actor running the BioBERT-base pipeline: low, high.
GPU_DOCS_PER_S = (300, 1_000)
# name -> (backend, torch threads per process/actor, actors)
CONFIGS = {
    "local, 2 torch threads": ("local", 2, 0),
    "local, 1 torch thread": ("local", 1, 0),
    "Ray, 2 actors × 1 thread": ("ray", 1, 2),
    "Ray, 1 actor × 2 threads": ("ray", 2, 1),
    "Ray, 1 actor × 1 thread": ("ray", 1, 1),
}


def test_jsonl(work: Path) -> Path:
    """The CDR test abstracts as ``{"id", "text"}`` JSONL."""
    from spacy_biobert.batch.inputs import read_inputs

    out = work / "cdr_test.jsonl"
    if not out.exists():
        docs = read_inputs(ROOT / "assets/cdr/test.pubtator.gz", "pubtator")
        out.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in docs), encoding="utf8")
    return out


def run_config(work: Path, name: str) -> Dict:
    """One configuration in this process: annotate the test JSONL; return its measurements."""
    from spacy_biobert.batch.ray_backend import RayOptions
    from spacy_biobert.batch.annotate import annotate_corpus

    backend, threads, actors = CONFIGS[name]
    torch.set_num_threads(threads)
    out = work / "out" / (name.replace(" ", "_").replace(",", "").replace("×", "x") + ".jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    options = RayOptions(actors=actors, torch_threads=threads, cpus_per_actor=threads, num_cpus=2)
    start = time.perf_counter()
    summary = annotate_corpus(str(work / "pipeline"), test_jsonl(work), out, overwrite=True, backend=backend,
                              ray_options=options)
    wall = time.perf_counter() - start
    return {"config": name, "backend": backend, "threads": threads, "actors": actors, "docs": summary.written,
            "wall_s": round(wall, 2), "docs_per_s": round(summary.written / wall, 2), "output": str(out)}


def same_records(a: Path, b: Path) -> bool:
    """Whether two JSONL outputs hold the same records by id."""
    def by_id(path: Path) -> Dict:
        return {r["id"]: r for r in map(json.loads, path.read_text(encoding="utf8").splitlines())}
    return by_id(a) == by_id(b)


def section(results: Dict, command: str) -> str:
    m, rows = results["machine"], results["rows"]
    base = next(r for r in rows if r["config"] == "local, 2 torch threads")
    lines = [
        TITLE, "",
        f"Command: `{command}` — date: {results['date']}. Machine: {m['nproc']} cores ({m['cpu']}), no GPU; Ray "
        f"{results['ray']}, local cluster started by the command (`ray.init(num_cpus=2)`). Input: the "
        f"{base['docs']} CDR test abstracts as JSONL; pipeline: configs/quick.cfg (MiniLM-L6 encoder, NER + "
        "relation head) initialised, untrained. Each row is a fresh process; wall time is the whole "
        "`annotate` call (Ray: cluster start, one pipeline load per actor, reading, annotating, writing). "
        f"Raw results: `bench/results/ray.json`.", "",
        "| configuration | wall s | docs/s | vs local, 2 threads | records equal local |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        same = "–" if r["backend"] == "local" else ("yes" if r["same_as_local"] else "**no**")
        lines.append(f"| {r['config']} | {r['wall_s']} | {r['docs_per_s']} | "
                     f"{r['docs_per_s'] / base['docs_per_s']:.2f}× | {same} |")
    return "\n".join(lines + [""] + estimate(rows, base)) + "\n"


def estimate(rows: List[Dict], base: Dict) -> List[str]:
    """The PubMed estimate paragraph, from the measured rows and the stated assumptions."""
    ray2 = next(r for r in rows if r["config"] == "Ray, 2 actors × 1 thread")
    eff = ray2["docs_per_s"] / base["docs_per_s"]
    days_cpu = PUBMED / ray2["docs_per_s"] / 86400
    cells = []
    for n in (1, 8, 32):
        hours = [PUBMED / (n * g * min(eff, 1.0)) / 3600 for g in GPU_DOCS_PER_S]
        cells.append(f"{n} GPU{'s' if n > 1 else ''}: {hours[1]:.1f}–{hours[0]:.1f} h")
    return [
        f"Ray, 2 actors × 1 thread runs at {eff:.2f}× the local backend on 2 threads here (cluster start and one "
        "pipeline load per actor included, on 500 documents); the records are the local backend's.",
        "",
        f"**Estimate, not a measurement** — PubMed (≈{PUBMED / 1e6:.0f}M abstracts). From these figures: on this "
        f"2-core machine the quick pipeline would take ≈{days_cpu:,.0f} days ({ray2['docs_per_s']} docs/s). On GPUs "
        "nothing here is measured; assuming one GPU actor runs the production BioBERT-base "
        f"pipeline at {GPU_DOCS_PER_S[0]:,}–{GPU_DOCS_PER_S[1]:,} abstracts/s (an assumption: ≈8× the encoder FLOPs of "
        "MiniLM-L6, abstracts of ≈300 wordpieces, batch 32, the actor given enough CPUs for tokenisation, the "
        "relation head and records), and Ray's efficiency measured here (capped at 1), the wall time is "
        f"{'; '.join(cells)} — linear in N as long as the input is sharded JSONL/Parquet and the output a shard "
        "folder (a single output file is written by the driver, which then has to keep up).",
    ]


def main() -> None:
    parser = results_parser(__doc__, "ray", "config")
    args = parser.parse_args()
    command = "python bench/bench_ray.py"
    if args.section_only:
        write_section(args.benchmarks, section(json.loads(args.out.read_text()), command), TITLE)
        return
    if args.config:
        print(json.dumps(run_config(args.work, args.config)))
        return
    build_pipeline(args.work)
    test_jsonl(args.work)
    rows: List[Dict] = []
    for name in CONFIGS:
        cmd = [sys.executable, __file__, "--work", str(args.work), "--config", name]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    local = Path(rows[0]["output"])
    for r in rows:
        r["same_as_local"] = same_records(local, Path(r["output"]))
    import ray

    results = {"date": utc_now(), "machine": machine(), "ray": ray.__version__, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    write_section(args.benchmarks, section(results, command), TITLE)


if __name__ == "__main__":
    main()
