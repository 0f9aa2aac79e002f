"""bench/bench_gpu.py, the GPU harness: its CPU smoke mode runs the env, throughput and a training job and writes what
the report reads (slow: it starts ``spacy train``); the training jobs' commands; the random BERT-base's vocabulary."""
import json
import subprocess
import sys
import tarfile
from argparse import Namespace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gpu_modules(monkeypatch):
    """``bench/gpu/`` modules imported as the harness imports them (``bench/`` and ``bench/gpu/`` on ``sys.path``)."""
    monkeypatch.syspath_prepend(str(ROOT / "bench" / "gpu"))
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    import encoders
    import jobs
    import throughput_report

    return Namespace(encoders=encoders, jobs=jobs, report=throughput_report)


@pytest.fixture(scope="module")
def smoke_out(tmp_path_factory) -> Path:
    """The --out folder of one ``bench/bench_gpu.py env throughput probe --smoke`` run."""
    base = tmp_path_factory.mktemp("bench_gpu")
    cmd = [sys.executable, str(ROOT / "bench" / "bench_gpu.py"), "env", "throughput", "probe", "--smoke",
           "--out", str(base / "out"), "--work", str(base / "work")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return base / "out"


def read(folder: Path, name: str) -> dict:
    return json.loads((folder / f"{name}.json").read_text(encoding="utf8"))


@pytest.mark.slow
def test_smoke_env_reports_this_checkout(smoke_out):
    env = read(smoke_out, "gpu_env")
    assert env["smoke"] and env["versions"]["spacy"].startswith("3.8") and env["requirement_problems"] == []
    assert env["package_matches_tree"] is True
    assert set(env["import_errors"]) <= {"cupy"}  # no GPU here: thinc's GPU ops need CuPy


@pytest.mark.slow
def test_smoke_throughput_measures_every_system_against_its_floor(smoke_out):
    t = read(smoke_out, "gpu_throughput")
    assert t["words"] > 0 and t["docs"] == 8 and t["skipped"] == []
    assert len(t["systems"]) == 3 and any(label.startswith("pipeline") for label in t["systems"])
    assert {(r["system"], r["precision"]) for r in t["runs"]} == {(s, p) for s in t["systems"] for p in ("fp32", "bf16")}
    for run in t["runs"]:
        assert "error" not in run, run
        assert run["words_per_s"] > 0 and run["wordpieces_per_s"] > 0 and run["wordpieces"] >= run["windows"] > 0
        assert run["peak_gpu_mib"] is None  # CPU
    assert {(f["system"], f["precision"]) for f in t["floor"]} == {(r["system"], r["precision"]) for r in t["runs"]}
    assert all(f["words_per_s"] > 0 and f["encoders"] == 1 for f in t["floor"])


@pytest.mark.slow
def test_smoke_training_job_scores_test_and_logs_without_models(smoke_out):
    probe = read(smoke_out, "probe")
    assert 0.0 <= probe["ours"]["ents_f"] <= 1.0 and probe["ours"]["words_per_s"] > 0
    names = tarfile.open(smoke_out / "logs.tgz").getnames()
    assert "./probe.log" in names and not any("model-" in n or n.endswith(".safetensors") for n in names)


@pytest.mark.slow
def test_report_renders_smoke_results_as_smoke(smoke_out, gpu_modules):
    text = gpu_modules.report.section(gpu_modules.report.load(smoke_out))
    assert "SMOKE RUN" in text and "| ner.cfg + bert-base (smoke: tiny) | bf16 | 4 | 4096 |" in text
    assert "| floor: system |" in text and "Verdict: best BERT-base" in text


def job_args(tmp_path: Path, **given) -> Namespace:
    return Namespace(gpu_id=0, cdr=tmp_path / "cdr", train_timeout_s=450, work=tmp_path / "work", out=tmp_path / "out",
                     encoder=tmp_path / "minilm", rel_steps=600, ner_steps=600, tapt_steps=2000, tapt_ner_steps=600,
                     ner_model=None, **given)


def test_e2e_job_trains_its_own_ner_unless_an_earlier_job_left_one(gpu_modules, tmp_path):
    a = job_args(tmp_path)
    first, rel = gpu_modules.jobs.commands("e2e", a)
    assert first[1].endswith("bench_ner.py") and rel[1].endswith("bench_rel.py")
    assert rel[rel.index("--ner-model") + 1] == str(a.work / "e2e_ner" / "ours" / "model-best")
    (a.work / "ner_ours" / "ours" / "model-best").mkdir(parents=True)
    (only,) = gpu_modules.jobs.commands("e2e", a)
    assert only[only.index("--ner-model") + 1] == str(a.work / "ner_ours" / "ours" / "model-best")


def test_ablation_jobs_pass_their_override_and_every_job_its_budget(gpu_modules, tmp_path):
    a = job_args(tmp_path)
    (cmd,) = gpu_modules.jobs.commands("rel_v2_pair", a)
    assert cmd[cmd.index("--override") + 1] == "components.biobert_rel.loss_reduction=pair"
    assert cmd[cmd.index("--max-steps") + 1] == "600" and cmd[cmd.index("--out") + 1] == str(a.out / "rel_v2_pair.json")
    for job in gpu_modules.jobs.JOBS:
        for cmd in gpu_modules.jobs.commands(job, a):
            assert cmd[cmd.index("--gpu-id") + 1] == "0" and cmd[cmd.index("--cdr") + 1] == str(a.cdr)


def test_vocabulary_cut_to_biobert_size_keeps_pieces_and_special_tokens(gpu_modules):
    words = ["[PAD]", "[UNK]", "the", "a", "##s", "cat", "##ing", "dog", "[SEP]", "##ed"]
    assert gpu_modules.encoders.sized_vocab(words, 7) == ["[PAD]", "[UNK]", "the", "##s", "##ing", "[SEP]", "##ed"]
    assert gpu_modules.encoders.sized_vocab(words, 10) == words
    assert gpu_modules.encoders.SHAPES["bert-base"]["vocab_size"] == 28996
