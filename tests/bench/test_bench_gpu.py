"""bench/bench_gpu.py: its CPU smoke mode runs every part and writes the JSON the report reads (slow: it starts two
``spacy train`` processes), and the BENCHMARKS.md "GPU" section is what bench/gpu/report.py makes of the results."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_report():
    spec = importlib.util.spec_from_file_location("gpu_report", ROOT / "bench" / "gpu" / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke_out(tmp_path_factory) -> Path:
    """The --out folder of one ``bench/bench_gpu.py --smoke`` run (every part)."""
    base = tmp_path_factory.mktemp("bench_gpu")
    cmd = [sys.executable, str(ROOT / "bench" / "bench_gpu.py"), "--smoke", "--out", str(base / "out"),
           "--work", str(base / "work")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return base / "out"


def read(folder: Path, name: str) -> dict:
    return json.loads((folder / f"gpu_{name}.json").read_text(encoding="utf8"))


@pytest.mark.slow
def test_smoke_writes_every_part(smoke_out):
    names = {p.stem for p in smoke_out.glob("gpu_*.json")}
    assert names == {"gpu_env", "gpu_throughput", "gpu_train_ner_bf16", "gpu_train_rel_fp32"}
    env = read(smoke_out, "env")
    assert env["smoke"] and env["versions"]["spacy"].startswith("3.8") and env["requirement_problems"] == []
    assert env["package_matches_tree"] is True
    assert set(env["import_errors"]) <= {"cupy"}  # no GPU here: thinc's GPU ops need CuPy


@pytest.mark.slow
def test_smoke_throughput_has_positive_speeds_for_both_encoders(smoke_out):
    t = read(smoke_out, "throughput")
    assert t["words"] > 0 and t["docs"] == 8
    assert {r["encoder"] for r in t["runs"]} == set(t["encoders"]) and len(t["encoders"]) == 2
    for run in t["runs"]:
        assert "error" not in run, run
        assert run["words_per_s"] > 0 and run["wordpieces_per_s"] > 0 and run["wordpieces"] >= run["windows"] > 0
        assert run["peak_gpu_mib"] is None  # CPU
    assert len(t["floor"]) == 2 and all(f["words_per_s"] > 0 and f["wordpieces"] > 0 for f in t["floor"])


@pytest.mark.slow
def test_smoke_training_parts_score_test(smoke_out):
    ner = read(smoke_out, "train_ner_bf16")
    assert ner["max_steps"] == 2 and not ner["timed_out"] and ner["train_s"] > 0
    assert 0.0 <= ner["test"]["ents_f"] <= 1.0 and ner["test"]["words_per_s"] > 0
    rel = read(smoke_out, "train_rel_fp32")
    assert rel["max_steps"] == 2 and rel["batches_per_epoch"] >= 1 and not rel["timed_out"]
    assert 0.0 <= rel["test"]["test"]["f"] <= 1.0


@pytest.mark.slow
def test_report_renders_smoke_results_as_smoke(smoke_out):
    text = load_report().section(load_report().load(smoke_out))
    assert "SMOKE RUN" in text and "| bert-base (smoke: tiny) | bf16 | 4 | 4096 |" in text
    assert "`configs/ner.cfg` | bf16 | 2 |" in text and "`configs/rel.cfg` | fp32 | 2 (" in text


def test_benchmarks_gpu_section_is_the_reports():
    report = load_report()
    section = report.section(report.load(ROOT / "bench" / "results" / "gpu"))
    assert section.strip() in (ROOT / "BENCHMARKS.md").read_text(encoding="utf8")
    if not (ROOT / "bench" / "results" / "gpu").exists():
        assert "not run yet.**" in section
