"""What the benchmark scripts share: logged subprocesses, CDR conversion, ``spacy train`` runs, timing, the
machine description and the BENCHMARKS.md sections.

The scripts run as ``python bench/<script>.py``, so this folder is ``sys.path[0]`` and ``from common import …``
finds this module. The heavy ones (training, timings) are run under ``flock`` on :data:`CPU_LOCK`, the one lock the
machine's CPU-heavy jobs share.
"""
import argparse
import contextlib
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import spacy
import torch
from spacy.tokens import Doc

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ("train", "dev", "test")
#: The lock heavy runs hold while they train or time something (``flock CPU_LOCK python bench/…``).
CPU_LOCK = "/tmp/spacy_biobert_cpu.lock"
#: The pipeline users run: what ``spacy project run all`` ships (project.yml, ``calibrate``).
SHIPPED = "training/e2e"


def log_line(log: Path, text: str) -> None:
    """Append ``text`` to ``log``, stamped with the UTC time."""
    with log.open("a", encoding="utf8") as handle:
        handle.write(f"[{datetime.now(timezone.utc):%H:%M:%S}] {text}\n")


def run(cmd: List[str], log: Path, timeout: Optional[float] = None) -> float:
    """Run ``cmd`` in the checkout with its output appended to ``log``; return its wall time in seconds.

    With ``timeout`` (seconds) the command is killed when it runs longer: ``subprocess.TimeoutExpired``.
    """
    start = time.perf_counter()
    log_line(log, "$ " + " ".join(cmd))
    with log.open("a", encoding="utf8") as handle:
        subprocess.run(cmd, check=True, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT, timeout=timeout)
    return time.perf_counter() - start


def convert_corpus(cdr: Path, out: Path, log: Path, in_process: bool = False) -> Path:
    """Convert CDR train/dev/test (``cdr/<split>.pubtator.gz``) into ``out`` with our converter (skipped when there):
    ``spacy biobert convert`` in a subprocess, or its function in this process (no interpreter start per split)."""
    for split in SPLITS:
        if (out / f"{split}.spacy").exists():
            continue
        source = cdr / f"{split}.pubtator.gz"
        if not in_process:
            run([sys.executable, "-m", "spacy", "biobert", "convert", str(source), str(out)], log)
            continue
        from spacy_biobert.cli.convert import convert_command

        log_line(log, f"convert {source} -> {out} (in process)")
        with log.open("a", encoding="utf8") as handle, contextlib.redirect_stdout(handle):
            convert_command(source, out, file_format="pubtator", config=None, summary_json=None, name=None)
    return out


def corpus_dir(cdr: Path, work: Path, log: Path) -> Path:
    """``corpus/`` of the checkout if ``cdr`` is the shipped corpus and ``corpus/`` holds all its splits (``spacy
    project run convert``'s output), else convert ``cdr`` into ``work/corpus``."""
    shipped = cdr.resolve() == (ROOT / "assets" / "cdr").resolve()
    if shipped and all((ROOT / "corpus" / f"{s}.spacy").exists() for s in SPLITS):
        return ROOT / "corpus"
    return convert_corpus(cdr, work / "corpus", log)


def spacy_train(config: Path, output: Path, overrides: Mapping[str, object], log: Path,
                timeout: Optional[float] = None) -> float:
    """``python -m spacy train config --output output --key value …``; return the wall time in seconds.

    Keys are passed as given, so CLI options go in ``overrides`` too (``{"gpu-id": 0, "code": path}``).
    """
    cmd = [sys.executable, "-m", "spacy", "train", str(config), "--output", str(output)]
    for key, value in overrides.items():
        cmd += [f"--{key}", str(value)]
    return run(cmd, log, timeout)


def capped_train(config: Path, output: Path, overrides: Mapping[str, object], log: Path,
                 args: argparse.Namespace) -> Tuple[float, bool]:
    """:func:`spacy_train` on ``args``' device (``--gpu-id``), stopped after ``--train-timeout-s`` (0: never);
    return (seconds, timed out?). A stopped run keeps the ``model-best`` of its last evaluation."""
    device = {"gpu-id": args.gpu_id} if args.gpu_id >= 0 else {}
    timeout = args.train_timeout_s or None
    try:
        return spacy_train(config, output, {**overrides, **device}, log, timeout), False
    except subprocess.TimeoutExpired:
        log_line(log, f"stopped after {timeout:.0f} s: model-best is the last one saved")
        return float(timeout), True


def use_device(args: argparse.Namespace) -> None:
    """Put this process's spaCy pipelines on the GPU of ``--gpu-id`` (nothing for -1, the CPU)."""
    if args.gpu_id >= 0:
        spacy.require_gpu(args.gpu_id)


def schedule_overrides(args: argparse.Namespace) -> Dict[str, object]:
    """The training budget both benchmarks give every system: steps, eval frequency, batch, learning rate."""
    return {
        "training.max_steps": args.max_steps,
        "training.eval_frequency": args.eval_frequency,
        "training.batcher.size": args.batch_words,
        "training.optimizer.learn_rate.initial_rate": args.learn_rate,
        "training.optimizer.learn_rate.warmup_steps": max(1, args.max_steps // 10),
    }


def timed_pipe(nlp, texts: List[str], batch_size: int, keep: Callable[[Doc], Any] = lambda doc: doc
               ) -> Tuple[list, float]:
    """Annotate ``texts``; return (``keep(doc)`` for each doc, seconds). Runs a short warm-up first.

    With a ``keep`` that reads what it needs from a doc, each doc is dropped once read, as ``spacy biobert
    annotate`` and the server do: the process's peak RSS is then the pipeline's, not that of every annotated doc
    (the transformer's output stays on each doc)."""
    list(nlp.pipe(texts[:4], batch_size=batch_size))
    start = time.perf_counter()
    kept = [keep(doc) for doc in nlp.pipe(texts, batch_size=batch_size)]
    return kept, time.perf_counter() - start


def encoder_windows(tokenizer, texts: List[str], window: int) -> List[List[int]]:
    """The bare-encoder floor's input: each text's wordpieces cut into consecutive non-overlapping windows of
    ``window`` wordpieces, special tokens included, in text order."""
    step = window - 2
    rows = tokenizer(texts, add_special_tokens=False)["input_ids"]
    return [tokenizer.build_inputs_with_special_tokens(row[i:i + step]) for row in rows for i in range(0, len(row), step)]


def checkout_path(path: Path) -> str:
    """``path`` relative to the checkout when it lies inside it, else its name (no machine paths in the results)."""
    try:
        return str(Path(path).absolute().relative_to(ROOT))
    except ValueError:
        return Path(path).name


def n_cores() -> int:
    return len(os.sched_getaffinity(0))


def machine() -> Dict:
    """Cores, CPU model and library versions, for the results file."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"nproc": n_cores(), "cpu": cpu, "gpu": gpu, "python": platform.python_version(),
            "spacy": spacy.__version__, "torch": torch.__version__}


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}"


def machine_line(results: Dict, command: str, threads: int) -> str:
    """The "Command: … Machine: …" line that opens a BENCHMARKS.md section."""
    m = results["machine"]
    gpu = f"GPU {m['gpu']} (training and inference on it)" if results.get("settings", {}).get("gpu_id", -1) >= 0 \
        else "no GPU"
    return (f"Command: `{command}` — date: {results['date']}. Machine: {m['nproc']} cores ({m['cpu']}), "
            f"{gpu}, torch threads {threads}.")


def keep_run(results: Path, result: Dict, key: Tuple[str, ...]) -> List[Dict]:
    """Add ``result`` to the list of runs in the JSON file ``results``, replacing a run with the same values of
    ``key``; write the file and return the runs."""
    import json

    runs = json.loads(results.read_text()) if results.exists() else []
    runs = [r for r in runs if tuple(r[k] for k in key) != tuple(result[k] for k in key)] + [result]
    results.write_text(json.dumps(runs, indent=1) + "\n")
    return runs


def write_section(path: Path, section: str, title: str) -> None:
    """Put a benchmark's results into ``path``.

    The project's BENCHMARKS.md is rendered whole by ``bench/report.py`` from ``bench/results/``, so for it this
    re-renders the file (a run shows up once its results file is listed there). Any other file gets the ``title``
    section (e.g. ``"## NER"``) replaced or appended, the other sections kept.
    """
    if path.resolve() == (ROOT / "BENCHMARKS.md").resolve():
        import report

        report.write(path)
        return
    text = path.read_text(encoding="utf8") if path.exists() else "# Benchmarks\n"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == title), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((j for j in range(start + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
        new = "\n".join(lines[:start] + section.splitlines() + [""] + lines[end:]).rstrip("\n") + "\n"
    path.write_text(new, encoding="utf8")


def argument_parser(doc: str, name: str, title: str) -> argparse.ArgumentParser:
    """A parser with the options both benchmarks take; ``name`` picks ``bench/runs/<name>`` and ``<name>.json``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cdr", type=Path, default=ROOT / "assets" / "cdr")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / name)
    parser.add_argument("--batch-words", type=int, default=2000)
    parser.add_argument("--learn-rate", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=32, help="docs per nlp.pipe batch at inference")
    parser.add_argument("--threads", type=int, default=n_cores())
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / f"{name}.json")
    parser.add_argument("--benchmarks", type=Path, default=ROOT / "BENCHMARKS.md",
                        help=f"file whose {title} section is written")
    parser.add_argument("--gpu-id", type=int, default=-1, help="train and run on this GPU (-1: CPU)")
    parser.add_argument("--train-timeout-s", type=float, default=0,
                        help="stop each spacy train after this many seconds and keep its model-best (0: never)")
    return parser


def results_parser(doc: str, name: str, internal: str) -> argparse.ArgumentParser:
    """The options of the benchmarks that run one case per fresh process and keep a results file: ``--work``
    (``bench/runs/<name>``), ``--out`` (``bench/results/<name>.json``), ``--benchmarks``, ``--section-only``, and
    the hidden ``--<internal>`` that runs one case and prints its JSON."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / name)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / f"{name}.json")
    parser.add_argument("--benchmarks", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(f"--{internal}", help=argparse.SUPPRESS)
    parser.add_argument("--section-only", action="store_true", help="rewrite the BENCHMARKS.md section from --out")
    return parser
