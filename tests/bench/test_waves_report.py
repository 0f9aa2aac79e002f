"""bench/gpu/waves_report.py: the H100 tables of BENCHMARKS.md (NER and Relations sections) are what the committed
wave JSON files render to (machine paths removed, as bench/report.py does), and a relation ablation job keeps its
own row."""
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WAVES = ROOT / "bench" / "results" / "gpu_waves"


@pytest.fixture
def waves_report(monkeypatch):
    """``bench/gpu/waves_report.py`` imported as the script imports its neighbours (``bench/`` on ``sys.path``)."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    monkeypatch.syspath_prepend(str(ROOT / "bench" / "gpu"))
    for name in ("waves_report", "bench_rel", "bench_ner", "bench_tapt", "common", "rel_baselines", "report"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import waves_report

    return waves_report


def table_rows(text: str):
    return [line for line in text.splitlines() if re.match(r"\| (ours|ablation|rel_component|sentence|test|original|tapt)", line)]


@pytest.mark.parametrize("budget", ["w600", "w1860"])
def test_committed_sections_render_from_the_committed_results(waves_report, budget):
    committed = (ROOT / "BENCHMARKS.md").read_text(encoding="utf8")
    folder = WAVES / budget
    sections = [render(folder, "## t", "cmd") for render in (waves_report.relations, waves_report.ner, waves_report.tapt)]
    from report import scrub

    rows = [scrub(row) for section in sections if section for row in table_rows(section)]
    assert len(rows) >= 7 and all(row in committed for row in rows)


def test_ablation_jobs_keep_their_own_rows(waves_report, tmp_path):
    v2 = json.loads((WAVES / "w600" / "rel_v2.json").read_text(encoding="utf8"))
    for job in ("rel_v2", "rel_v2_pair"):
        (tmp_path / f"{job}.json").write_text(json.dumps(v2), encoding="utf8")
    text = waves_report.relations(tmp_path, "## t", "cmd")
    rows = table_rows(text)
    assert len(rows) == 2 and rows[1].startswith("| ablation: v2 with loss_reduction = pair")
    assert rows[0].split("|")[2:] == rows[1].split("|")[2:]  # same figures, two systems
