"""GPU benchmark harness: every measurement on the GPU machine, one entry point.

    python bench/bench_gpu.py JOB [JOB ...] [options]

Jobs (``env`` and ``throughput`` run first, alone, in this process; then the training jobs, in parallel):

* ``env``: the GPU, package versions, unmet requirements, ``spacy.require_gpu()`` (first, on a fresh machine);
* ``throughput``: words/s end to end through ``nlp.pipe`` of the pipeline folder ``--pipeline`` (default: the
  shipped one) and of ``configs/ner.cfg`` on the embedded MiniLM and on a random BERT-base (BioBERT's shape), per
  precision (fp32, fp16, bf16) and batch size, the GPU's peak memory, and each system's encoder floor (its
  encoders' forward pass alone) on the same card (bench/gpu/throughput.py);
* the training jobs of bench/gpu/jobs.py (``rel_v2``, ``ner_ours``, ``tapt``…): the CPU benchmarks' own scripts
  with ``--gpu-id 0``; ``--ner-steps``, ``--rel-steps``, ``--train-timeout-s``… set their budget.

Results: ``gpu_env.json``, ``gpu_throughput.json`` (rendered into BENCHMARKS.md's "GPU" section by
``python bench/report.py``) and ``<job>.json`` + ``logs.tgz`` in ``--out``. When ``.whl/gpu-bundle.tar.xz`` exists
(bench/gpu/bundle.py) the harness runs on its packages and its packed MiniLM. ``--smoke``: on CPU, tiny random BERTs,
8 CDR documents per split, 2 training steps (tests/bench/test_bench_gpu.py). On the GPU machine:
bench/gpu/run_on_device.md.
"""
import argparse
import json
import sys
import time
from pathlib import Path
from typing import Dict, List

from gpu import bundle, jobs

ROOT = Path(__file__).resolve().parents[1]
IN_PROCESS = ("env", "throughput")
TARGET_WORDS_PER_S, COMPUTE_LIMIT_WORDS_PER_S = 100_000, 1_000_000
SMOKE = {"docs": 8, "repeat": 1, "batch_sizes": "4", "big_batch_items": "", "precisions": "fp32,bf16",
         "floor_batch": 8, "ner_steps": 2, "rel_steps": 2, "tapt_steps": 2, "tapt_ner_steps": 2}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="training jobs:\n" + "\n".join(f"  {k:12} {v}" for k, v in jobs.JOBS.items()))
    p.add_argument("jobs", nargs="+", choices=IN_PROCESS + tuple(jobs.JOBS), metavar="JOB")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "gpu", help="folder for the results")
    p.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "gpu")
    p.add_argument("--cdr", type=Path, default=ROOT / "assets" / "cdr")
    p.add_argument("--smoke", action="store_true", help="CPU, tiny random BERTs, 8 docs per split, 2 steps")
    p.add_argument("--docs", type=int, default=0, help="documents per CDR split (0: all)")
    p.add_argument("--pipeline", type=Path, help="throughput: pipeline folder (default: the shipped one)")
    p.add_argument("--precisions", default="fp32,fp16,bf16", help="throughput: a subset of fp32,fp16,bf16")
    p.add_argument("--batch-sizes", default="32,128,256", help="throughput: docs per nlp.pipe batch")
    p.add_argument("--max-batch-items", type=int, default=4096,
                   help="the transformers' max_batch_items and chunk_wordpieces, for every batch size")
    p.add_argument("--big-batch-items", default="16384,65536", help="more items values at the largest batch size")
    p.add_argument("--repeat", type=int, default=2, help="throughput texts: CDR test repeated")
    p.add_argument("--floor-window", type=int, default=128)
    p.add_argument("--floor-batch", type=int, default=256)
    p.add_argument("--budget-s", type=float, default=420, help="throughput: start no measurement after this")
    p.add_argument("--ner-steps", type=int, default=1800)
    p.add_argument("--rel-steps", type=int, default=1800)
    p.add_argument("--tapt-steps", type=int, default=2000)
    p.add_argument("--tapt-ner-steps", type=int, default=1000)
    p.add_argument("--ner-model", type=Path, help="e2e job: the NER it sources (default: the ner_ours job's)")
    p.add_argument("--train-timeout-s", type=float, default=450, help="stop each spacy train after this")
    args = p.parse_args(argv)
    args.command = " ".join(["python bench/bench_gpu.py", *(sys.argv[1:] if argv is None else argv)])
    for key, value in SMOKE.items() if args.smoke else ():
        if getattr(args, key) == p.get_default(key):  # smoke settings, unless given on the command line
            setattr(args, key, value)
    return args


def write(out: Path, name: str, results: Dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"gpu_{name}.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf8")


def header(args: argparse.Namespace, job: str) -> Dict:
    from common import utc_now
    from gpu.env import device_info

    return {"job": job, "date": utc_now(), "smoke": args.smoke, "device": device_info(), "command": args.command}


def systems(args: argparse.Namespace, minilm: Path, examples) -> Dict[str, Dict]:
    """Label -> system: the pipeline folder and configs/ner.cfg on each encoder (tiny random BERTs for --smoke)."""
    from common import SHIPPED
    from gpu.encoders import random_bert
    from gpu.throughput import load_system

    if args.smoke:
        pipeline = args.work / "smoke_pipeline"
        if args.pipeline is None and not pipeline.exists():
            load_system({"encoder": args.encoder}, "fp32", args.max_batch_items, examples).to_disk(pipeline)
        return {f"pipeline {args.pipeline or 'smoke: ner.cfg, tiny'}": {"pipeline": args.pipeline or pipeline},
                "ner.cfg + minilm-l6 (smoke: tiny)": {"encoder": args.encoder},
                "ner.cfg + bert-base (smoke: tiny)": {"encoder": random_bert(args.work / "tiny_b", "tiny", minilm, 1)}}
    pipeline = args.pipeline or ROOT / SHIPPED
    shown = pipeline.relative_to(ROOT) if pipeline.is_relative_to(ROOT) else pipeline
    return {f"pipeline {shown}": {"pipeline": pipeline},
            "ner.cfg + minilm-l6": {"encoder": minilm},
            "ner.cfg + bert-base (random)": {"encoder": random_bert(args.work / "bert_base", "bert-base", minilm)}}


def sweep(args: argparse.Namespace) -> Dict[int, List[int]]:
    """Items (``max_batch_items`` = ``chunk_wordpieces``) -> docs per ``nlp.pipe`` batch."""
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    items = {args.max_batch_items: sizes}
    for value in (int(i) for i in args.big_batch_items.split(",") if i):
        items.setdefault(value, []).append(max(sizes))
    return items


def throughput(args: argparse.Namespace, minilm: Path) -> Dict:
    from gpu import throughput as t
    from gpu.encoders import describe

    texts, n_words = t.texts_and_words(args.cdr, args.docs)
    texts, n_words = texts * args.repeat, n_words * args.repeat
    examples = t.label_examples(args.cdr)
    results = {**header(args, "throughput"), "texts": "CDR test" + (f" x {args.repeat}" if args.repeat > 1 else ""),
               "docs": len(texts), "words": n_words, "systems": {}, "runs": [], "floor": [], "skipped": [],
               "targets": {"words_per_s": TARGET_WORDS_PER_S, "compute_limit_words_per_s": COMPUTE_LIMIT_WORDS_PER_S}}
    deadline = time.perf_counter() + args.budget_s
    for label, system in systems(args, minilm, examples).items():
        if "pipeline" in system and not (Path(system["pipeline"]) / "config.cfg").exists():
            results["skipped"].append(f"{label}: no pipeline there")
            continue
        for precision in args.precisions.split(","):
            for items, sizes in sweep(args).items():
                if time.perf_counter() > deadline:
                    results["skipped"].append(f"{label} {precision} items {items}: over --budget-s")
                    continue
                try:
                    nlp = t.load_system(system, precision, items, examples)
                except Exception as err:  # noqa: BLE001 - record it and go on with the next system
                    results["skipped"].append(f"{label} {precision}: failed to load: {repr(err)[:300]}")
                    break
                if label not in results["systems"]:
                    shapes = [describe(m.transformer.config.to_dict(), system.get("encoder")) for m in t.encoders(nlp)]
                    results["systems"][label] = {"source": str(system.get("pipeline") or system["encoder"]),
                                                 "encoders": shapes}
                work = t.workload(nlp, texts)
                for batch_size in sizes:
                    run = {"system": label, "precision": precision, "max_batch_items": items, **work}
                    try:
                        run.update(t.measure(nlp, texts, n_words, batch_size, precision))
                        run["wordpieces_per_s"] = work["wordpieces"] / run["seconds"]
                    except Exception as err:  # noqa: BLE001 - an out-of-memory batch is a result; go on
                        run.update(batch_size=batch_size, error=repr(err)[:500])
                    results["runs"].append(run)
                    t.free_gpu()
                if items == args.max_batch_items:
                    results["floor"].append({"system": label, **t.encoder_floor(
                        nlp, texts, n_words, precision, args.floor_window, args.floor_batch)})
                del nlp
                t.free_gpu()
            write(args.out, "throughput", results)
    write(args.out, "throughput", results)
    return results


def main(argv=None) -> None:
    args = parse_args(argv)
    packed = bundle.activate()  # with a bundle: unpacks it and runs this command again on its packages
    from gpu.encoders import minilm_dir, random_bert
    from gpu.env import env_report, package_matches_tree
    from gpu.throughput import cuda

    if not args.smoke and not cuda():
        raise SystemExit("No CUDA GPU here: run on the GPU machine (bench/gpu/run_on_device.md) or use --smoke.")
    if "env" in args.jobs:  # before require_gpu: it reports a GPU that thinc cannot take instead of failing on it
        report = {**header(args, "env"), **env_report()}
        print(json.dumps(report, indent=2, default=str), flush=True)
        write(args.out, "env", report)
    if not package_matches_tree():
        raise SystemExit("The imported spacy_biobert is not this checkout's code: rebuild the bundle "
                         "(python bench/gpu/bundle.py) from this commit.")
    minilm = minilm_dir(packed)
    args.work.mkdir(parents=True, exist_ok=True)
    args.cdr = jobs.limited_cdr(args.cdr, args.work / "cdr_small", args.docs)
    args.encoder = random_bert(args.work / "tiny_a", "tiny", minilm) if args.smoke else minilm
    args.gpu_id = 0 if cuda() else -1
    if "throughput" in args.jobs:
        import spacy

        if cuda():
            spacy.require_gpu()
        for r in throughput(args, minilm)["runs"]:
            speed = f"{r['words_per_s']:,.0f} words/s" if "words_per_s" in r else r.get("error")
            print(f"{r['system']} {r['precision']} batch {r['batch_size']} items {r['max_batch_items']}: {speed}, "
                  f"peak {r.get('peak_gpu_mib')} MiB", flush=True)
    training = [job for job in args.jobs if job in jobs.JOBS]
    if training and any(jobs.run_jobs(training, args).values()):
        raise SystemExit("a training job failed: see its log in logs.tgz")


if __name__ == "__main__":
    main()
