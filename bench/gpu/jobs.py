"""The training jobs of ``bench/bench_gpu.py``: the CPU benchmarks' own scripts (``bench_ner.py``, ``bench_rel.py``,
``bench_tapt.py``) with ``--gpu-id 0``, run in parallel on the one GPU (``--threads 2`` each), each in its own folder
under ``--work``; each writes ``<job>.json`` to ``--out``, and every job's log goes into ``--out``/``logs.tgz``.
Every ``spacy train`` is stopped after ``--train-timeout-s`` (its last ``model-best`` is scored; the JSON says
``timed_out``). Imports nothing heavy: the harness lists the jobs before the bundle is on the path."""
import gzip
import subprocess
import sys
import tarfile
import time
from argparse import Namespace
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
JOBS: Dict[str, str] = {
    "probe": "bench_ner ours, 40 steps (step time; whether the stack works)",
    "rel_v1": "bench_rel ours_gold (RelationModel.v1), --rel-steps",
    "rel_v2": "bench_rel ours_gold_v2 (RelationModel.v2, configs/rel.cfg)",
    "rel_v2_pair": 'rel_v2 with loss_reduction = "pair" (mean over candidate pairs)',
    "rel_v2_lr10": "rel_v2 with head_lr_scale = 10 (the head learns 10x faster than the encoder)",
    "rel_base": "bench_rel baseline_gold, cooccurrence_gold",
    "ner_ours": "bench_ner ours (configs/ner.cfg), --ner-steps",
    "ner_peer": "bench_ner peer_a, --ner-steps",
    "e2e": "bench_rel e2e_frozen_v2, cooccurrence_end_to_end on --ner-model (default: an earlier ner_ours job's "
           "model-best under --work; if there is none, this job trains its own first, as e2e_ner)",
    "tapt": "bench_tapt: --tapt-steps of masked-LM on CDR train+dev, then NER from both encoders (--tapt-ner-steps)",
}
#: The systems of each job that runs one script once, and the ablations' config overrides.
SYSTEMS = {"probe": "ours", "ner_ours": "ours", "ner_peer": "peer_a", "rel_v1": "ours_gold", "rel_v2": "ours_gold_v2",
           "rel_v2_pair": "ours_gold_v2", "rel_v2_lr10": "ours_gold_v2", "rel_base": "baseline_gold,cooccurrence_gold"}
OVERRIDES = {"rel_v2_pair": "components.biobert_rel.loss_reduction=pair",
             "rel_v2_lr10": "components.biobert_rel.head_lr_scale=10"}
#: logs.tgz keeps these files of --work, except under the folders of models, encoders and pipelines.
LOGGED = (".log", ".md", ".json", ".cfg")
NOT_LOGGED = ("model-", "tapt_encoder", "ner_original", "ner_tapt", "smoke_pipeline", "tiny_", "bert_base")


def limited_cdr(cdr: Path, out: Path, docs: int) -> Path:
    """``cdr`` itself, or (``docs`` > 0) a copy in ``out`` holding the first ``docs`` documents of each split."""
    if docs <= 0:
        return cdr
    out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev", "test"):
        text = gzip.open(cdr / f"{split}.pubtator.gz", "rt", encoding="utf8").read()
        blocks = [block for block in text.split("\n\n") if block.strip()][:docs]
        with gzip.open(out / f"{split}.pubtator.gz", "wt", encoding="utf8") as handle:
            handle.write("\n\n".join(blocks) + "\n\n")
    return out


def commands(job: str, a: Namespace) -> List[List[str]]:
    """The commands of ``job``, run one after the other. ``a``: the harness's options plus ``encoder`` (the
    checkpoint folder every job trains), ``gpu_id`` and ``cdr`` (the corpus, limited for --smoke)."""
    def common(name: str, script: str) -> List[str]:
        return [sys.executable, str(BENCH / script), "--gpu-id", str(a.gpu_id), "--cdr", str(a.cdr),
                "--threads", "2", "--train-timeout-s", str(a.train_timeout_s), "--work", str(a.work / name),
                "--out", str(a.out / f"{name}.json"), "--benchmarks", str(a.work / f"{name}.md")]

    def rel(name: str, *extra: str) -> List[str]:
        return [*common(name, "bench_rel.py"), "--encoder", str(a.encoder), "--max-steps", str(a.rel_steps),
                "--eval-frequency", str(max(1, a.rel_steps // 6)), "--batch-size", "128", *extra]

    def ner(name: str, steps: int, *extra: str) -> List[str]:
        return [*common(name, "bench_ner.py"), "--encoder", str(a.encoder), "--max-steps", str(steps),
                "--eval-frequency", str(max(1, steps // 6)), *extra]

    if job == "e2e":
        model = a.ner_model or a.work / "ner_ours" / "ours" / "model-best"
        first = []
        if not Path(model).is_dir():
            model = a.work / "e2e_ner" / "ours" / "model-best"
            first = [ner("e2e_ner", a.ner_steps, "--systems", "ours")]
        return first + [rel("e2e", "--systems", "e2e_frozen_v2,cooccurrence_end_to_end", "--ner-model", str(model),
                            "--entities-model", str(a.work / "e2e" / "e2e_frozen_v2" / "model-best"))]
    if job == "tapt":
        return [[sys.executable, str(BENCH / "bench_tapt.py"), "--gpu-id", str(a.gpu_id), "--cdr", str(a.cdr),
                 "--base", str(a.encoder), "--work", str(a.work / "tapt"), "--out", str(a.out / "tapt.json"),
                 "--tapt-steps", str(a.tapt_steps), "--tapt-batch-size", "32", "--ner-steps", str(a.tapt_ner_steps)]]
    if job.startswith("rel"):
        return [rel(job, "--systems", SYSTEMS[job], *(("--override", OVERRIDES[job]) if job in OVERRIDES else ()))]
    return [ner(job, min(40, a.ner_steps) if job == "probe" else a.ner_steps, "--systems", SYSTEMS[job])]


def run_job(job: str, a: Namespace, start: float) -> int:
    """Run ``job``'s commands with their output in ``--work``/``<job>.log``; return the first failing exit code."""
    code = 0
    with (a.work / f"{job}.log").open("w", encoding="utf8") as log:
        for cmd in commands(job, a):
            log.write("$ " + " ".join(cmd) + "\n")
            log.flush()
            code = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT).returncode
            if code:
                break
    print(f"[{time.perf_counter() - start:.0f} s] {job}: exit {code}", flush=True)
    return code


def logged(info: tarfile.TarInfo) -> Optional[tarfile.TarInfo]:
    """``info`` if logs.tgz keeps it (:data:`LOGGED`, :data:`NOT_LOGGED`)."""
    keep = info.isdir() or info.name.endswith(LOGGED)
    return info if keep and not any(part in info.name for part in NOT_LOGGED) else None


def run_jobs(jobs: List[str], a: Namespace) -> Dict[str, int]:
    """Run ``jobs`` in parallel; write ``logs.tgz``; return each job's exit code."""
    a.work.mkdir(parents=True, exist_ok=True)
    a.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        codes = dict(zip(jobs, pool.map(lambda job: run_job(job, a, start), jobs)))
    with tarfile.open(a.out / "logs.tgz", "w:gz") as tar:
        tar.add(a.work, ".", filter=logged)
    return codes
