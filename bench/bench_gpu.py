"""GPU benchmark: inference throughput and memory of the NER pipeline, and full-budget training of the NER and
relation configs, on one CUDA GPU. One command per part, each well inside the device tool's 10 minutes:

* ``--part env`` -- the GPU, versions, requirement check, ``spacy.require_gpu()``: run it first on a fresh machine;
* ``--part throughput`` -- words/s end to end through ``nlp.pipe`` (configs/ner.cfg, untrained head) with the
  embedded MiniLM and a randomly initialised BERT-base (BioBERT's shape) per precision (fp32; fp16 and bf16
  autocast through spacy-transformers' ``mixed_precision``), batch size and ``max_batch_items``, GPU peak memory,
  and the bare encoder floor (the Hugging Face forward pass alone over non-overlapping windows of the same texts);
* ``--part train-ner`` -- ``spacy train configs/ner.cfg --gpu-id 0`` per ``--ner-precisions``, test P/R/F;
* ``--part train-rel`` -- ``spacy train configs/rel.cfg --gpu-id 0`` for ``--rel-epochs`` epochs, test CID P/R/F;
* ``--part all`` -- all of them in turn (for ``--smoke``; on the GPU machine one part per call).

Each part writes ``gpu_<part>[_<precision>].json`` to ``--out`` (bench/gpu/report.py turns them into the
BENCHMARKS.md "GPU" section). Training and scoring happen in the same part: the GPU machine's disk does not
outlive its lease (a machine goes back 30 s after a call), so no part relies on another's files.
``--smoke`` runs every part on CPU with a tiny random BERT, 8 CDR documents per split and 2 training steps, to
check the code path without a GPU. How to run it on the GPU machine: bench/gpu/run_on_device.md.
"""
import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Dict, List

import spacy

from common import ROOT, log_line, utc_now
from gpu.data import cdr_corpus, gold_docs
from gpu.encoders import BIOBERT_VOCAB, describe, flops_per_wordpiece, minilm_dir, random_bert
from gpu.env import device_info, env_report, package_matches_tree
from gpu.throughput import (PRECISIONS, autocast_dtype, cuda, encoder_floor, free_gpu, measure, ner_pipeline,
                            pipeline_workload)
from gpu.training import batches_per_epoch, ner_scores, precision_overrides, rel_scores, train

PARTS = ("env", "throughput", "train-ner", "train-rel")
TARGET_WORDS_PER_S = 100_000
COMPUTE_LIMIT_WORDS_PER_S = 1_000_000
SMOKE = {"docs": 8, "repeat": 1, "batch_sizes": "4", "big_batch_items": "", "precisions": "bf16",
         "ner_precisions": "bf16",
         "ner_steps": 2, "rel_max_steps": 2, "eval_frequency": 1, "floor_batch": 8, "eval_batch_size": 4}


def write(out: Path, name: str, results: Dict) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"gpu_{name}.json"
    path.write_text(json.dumps(results, indent=2, default=str), encoding="utf8")
    return path


def header(args: argparse.Namespace, part: str) -> Dict:
    return {"part": part, "date": utc_now(), "smoke": args.smoke, "device": device_info(), "command": args.command}


def encoders(args: argparse.Namespace) -> Dict[str, Path]:
    """Label -> checkpoint folder: the MiniLM and the random BERT-base (tiny random BERTs for --smoke)."""
    minilm = minilm_dir(args.minilm)
    if args.smoke:
        return {"bert-base (smoke: tiny)": random_bert(args.work / "tiny_b", "tiny", minilm, seed=1),
                "minilm-l6 (smoke: tiny)": training_encoder(args)}
    return {"bert-base": random_bert(args.work / "bert_base_random", "bert-base", minilm), "minilm-l6": minilm}


def settings(args: argparse.Namespace) -> Dict[int, List[int]]:
    """The sweep: items (``max_batch_items`` = ``chunk_wordpieces``) -> docs per ``nlp.pipe`` batch."""
    sizes = [int(s) for s in args.batch_sizes.split(",")]
    sweep = {args.max_batch_items: sizes}
    for items in (int(i) for i in args.big_batch_items.split(",") if i):
        sweep.setdefault(items, []).append(max(sizes))
    return sweep


def part_throughput(args: argparse.Namespace, corpus: Path, log: Path) -> Dict:
    docs = gold_docs(corpus)
    texts = [doc.text for doc in docs] * args.repeat
    n_words = sum(len(doc) for doc in docs) * args.repeat
    results = {**header(args, "throughput"), "texts": "CDR test" + (f" x {args.repeat}" if args.repeat > 1 else ""),
               "docs": len(texts), "words": n_words, "encoders": {}, "runs": [], "floor": [], "skipped": [],
               "targets": {"words_per_s": TARGET_WORDS_PER_S, "compute_limit_words_per_s": COMPUTE_LIMIT_WORDS_PER_S},
               "vocab_note": f"The random BERT-base uses the MiniLM's uncased WordPiece vocabulary (BioBERT's: {BIOBERT_VOCAB})"}
    deadline = time.perf_counter() + args.budget_s
    label_docs = gold_docs(corpus, "train")[:20]
    for label, folder in encoders(args).items():
        results["encoders"][label] = describe(folder)
        for precision in args.precisions.split(","):
            if time.perf_counter() > deadline:
                results["skipped"].append(f"{label} {precision}: over --budget-s")
                continue
            try:
                sweep(args, results, label, folder, precision, label_docs, texts, n_words, log, deadline)
            except Exception as err:  # noqa: BLE001 - record it and go on with the next precision/encoder
                results["skipped"].append(f"{label} {precision}: failed: {repr(err)[:300]}")
                free_gpu()
            write(args.out, "throughput", results)
    return results


def sweep(args, results: Dict, label: str, folder: Path, precision: str, label_docs, texts: List[str], n_words: int,
          log: Path, deadline: float) -> None:
    """One encoder and precision: every (batch size, items) until ``deadline``, one pipeline per items value
    (``max_batch_items`` and ``chunk_wordpieces`` both), then the encoder floor."""
    workload: Dict = {}
    for items, sizes in settings(args).items():
        nlp = ner_pipeline(folder, precision, label_docs, items)
        if not workload:
            workload = {k: v * args.repeat for k, v in pipeline_workload(nlp, texts[: len(texts) // args.repeat]).items()}
            flops = flops_per_wordpiece(results["encoders"][label], workload["wordpieces"] / max(1, workload["windows"]))
        for batch_size in sizes:
            if time.perf_counter() > deadline:
                results["skipped"].append(f"{label} {precision} batch {batch_size} items {items}: over --budget-s")
                continue
            run = {"encoder": label, "precision": precision, **workload}
            try:
                run.update(measure(nlp, texts, n_words, batch_size, items, precision))
                run["wordpieces_per_s"] = workload["wordpieces"] / run["seconds"]
                run["encoder_tflops_estimate"] = workload["wordpieces"] * flops / run["seconds"] / 1e12
            except Exception as err:  # noqa: BLE001 - an out-of-memory batch is a result, the sweep goes on
                run.update(batch_size=batch_size, max_batch_items=items, error=repr(err)[:500])
            log_line(log, json.dumps(run))
            results["runs"].append(run)
            free_gpu()
        del nlp
        free_gpu()
    floor = encoder_floor(folder, texts, n_words, precision, args.floor_window, args.floor_batch)
    free_gpu()
    results["floor"].append({"encoder": label, **floor})
    log_line(log, json.dumps(results["floor"][-1]))


def budget(args: argparse.Namespace, steps: int, eval_frequency: int) -> SimpleNamespace:
    return SimpleNamespace(max_steps=steps, eval_frequency=eval_frequency, batch_words=args.batch_words,
                           learn_rate=args.learn_rate, timeout_s=args.train_timeout_s)


def training_overrides(args: argparse.Namespace, precision: str) -> Dict:
    return {"components.transformer.model.name": training_encoder(args), **precision_overrides(precision),
            "gpu-id": 0 if cuda() else -1}


def training_encoder(args: argparse.Namespace) -> Path:
    """The MiniLM the configs train on (a tiny random BERT for --smoke)."""
    minilm = minilm_dir(args.minilm)
    return random_bert(args.work / "tiny_a", "tiny", minilm) if args.smoke else minilm


def part_train_ner(args: argparse.Namespace, corpus: Path, pubtator: Path, log: Path) -> Dict:
    results = {}
    for precision in args.ner_precisions.split(","):
        output = args.work / f"ner_{precision}"
        result = {**header(args, "train-ner"), "precision": precision, "encoder": str(training_encoder(args))}
        result.update(train("ner.cfg", output, corpus, budget(args, args.ner_steps, args.eval_frequency or 250),
                            training_overrides(args, precision), log))
        with autocast_dtype(precision):  # a bf16-trained pipeline is scored in bf16 too
            result["test"] = scores(lambda: ner_scores(output, corpus, pubtator, args.eval_batch_size))
        write(args.out, f"train_ner_{precision}", result)
        results[precision] = result
    return results


def part_train_rel(args: argparse.Namespace, corpus: Path, log: Path) -> Dict:
    per_epoch = batches_per_epoch(corpus, args.batch_words)
    steps = args.rel_max_steps or args.rel_epochs * per_epoch
    precision = args.rel_precision
    output = args.work / f"rel_{precision}"
    result = {**header(args, "train-rel"), "precision": precision, "encoder": str(training_encoder(args)),
              "batches_per_epoch": per_epoch, "epochs": round(steps / per_epoch, 2)}
    extra = {**training_overrides(args, precision), "corpora.dev.limit": args.dev_docs}
    result.update(train("rel.cfg", output, corpus, budget(args, steps, args.eval_frequency or max(1, steps // 6)),
                        extra, log))
    with autocast_dtype(precision):
        result["test"] = scores(lambda: rel_scores(output, corpus, args.dev_docs, args.eval_batch_size))
    write(args.out, f"train_rel_{precision}", result)
    return result


def scores(evaluate: Callable[[], Dict]) -> Dict:
    """The evaluation's result, or the error (a missing model-best after a timeout, say)."""
    try:
        return evaluate()
    except Exception as err:  # noqa: BLE001
        return {"error": repr(err)[:500]}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=PARTS + ("all",), default="all")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "gpu", help="folder for the JSON files")
    p.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "gpu")
    p.add_argument("--cdr", type=Path, default=ROOT / "assets" / "cdr")
    p.add_argument("--minilm", type=Path, help="MiniLM checkpoint folder (default: the installed embedded encoder)")
    p.add_argument("--smoke", action="store_true", help="CPU, tiny random BERT, 8 docs per split, 2 steps")
    p.add_argument("--docs", type=int, default=0, help="documents per CDR split (0: all)")
    p.add_argument("--precisions", default="fp32,fp16,bf16", help="throughput; of " + ",".join(PRECISIONS))
    p.add_argument("--ner-precisions", default="fp32", help="train-ner, one training each (e.g. fp32,fp16)")
    p.add_argument("--batch-sizes", default="32,128,256", help="docs per nlp.pipe batch")
    p.add_argument("--max-batch-items", type=int, default=4096,
                   help="the transformer's max_batch_items and chunk_wordpieces, for every batch size")
    p.add_argument("--big-batch-items", default="16384,65536", help="more items values at the largest batch size")
    p.add_argument("--repeat", type=int, default=2, help="throughput texts: CDR test repeated")
    p.add_argument("--floor-window", type=int, default=128)
    p.add_argument("--floor-batch", type=int, default=256)
    p.add_argument("--budget-s", type=float, default=420, help="throughput: start no measurement after this")
    p.add_argument("--ner-steps", type=int, default=1500)
    p.add_argument("--rel-epochs", type=int, default=30)
    p.add_argument("--rel-max-steps", type=int, default=0, help="overrides --rel-epochs")
    p.add_argument("--rel-precision", default="fp32", choices=PRECISIONS)
    p.add_argument("--eval-frequency", type=int, default=0, help="default: 250 (NER), steps / 6 (relations)")
    p.add_argument("--batch-words", type=int, default=2000)
    p.add_argument("--learn-rate", type=float, default=1e-4)
    p.add_argument("--dev-docs", type=int, default=100, help="relations: dev docs for model and threshold selection")
    p.add_argument("--eval-batch-size", type=int, default=128, help="docs per nlp.pipe batch when scoring test")
    p.add_argument("--train-timeout-s", type=float, default=480, help="stop spacy train after this; model-best is kept")
    args = p.parse_args(argv)
    args.command = " ".join(["python bench/bench_gpu.py", *(sys.argv[1:] if argv is None else argv)])
    for key, value in SMOKE.items() if args.smoke else ():
        if getattr(args, key) == p.get_default(key):  # smoke settings, unless given on the command line
            setattr(args, key, value)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if not args.smoke and not cuda():
        raise SystemExit("No CUDA GPU here: run on the GPU machine (bench/gpu/run_on_device.md) or use --smoke.")
    args.work.mkdir(parents=True, exist_ok=True)
    log = args.work / "bench_gpu.log"
    parts = PARTS if args.part == "all" else (args.part,)
    if "env" in parts:  # before require_gpu: it reports a GPU that thinc cannot take instead of failing on it
        report = {**header(args, "env"), **env_report()}
        print(json.dumps(report, indent=2, default=str), flush=True)
        write(args.out, "env", report)
    if parts == ("env",):
        return
    if not package_matches_tree():
        raise SystemExit("The imported spacy_biobert is not this checkout's code: rebuild the bundle "
                         "(bench/gpu/prepare_wheels.sh) from this commit.")
    if cuda():
        spacy.require_gpu()
    pubtator, corpus = cdr_corpus(args.cdr, args.work, args.docs, log)
    if "throughput" in parts:
        summary(part_throughput(args, corpus, log)["runs"])
    if "train-ner" in parts:
        for precision, r in part_train_ner(args, corpus, pubtator, log).items():
            print(f"train-ner {precision}: {r.get('train_s', 0):.0f} s, test F {r['test'].get('ents_f')}", flush=True)
    if "train-rel" in parts:
        r = part_train_rel(args, corpus, log)
        print(f"train-rel: {r.get('train_s', 0):.0f} s, test {r['test'].get('test', r['test'])}", flush=True)


def summary(runs: List[Dict]) -> None:
    for r in runs:
        speed = f"{r['words_per_s']:,.0f} words/s" if "words_per_s" in r else r.get("error")
        print(f"{r['encoder']} {r['precision']} batch {r['batch_size']} items {r['max_batch_items']}: {speed}, "
              f"peak {r.get('peak_gpu_mib')} MiB", flush=True)


if __name__ == "__main__":
    main()
