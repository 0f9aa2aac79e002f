"""bench/report.py: the committed BENCHMARKS.md is exactly what it renders from the committed results (summary first,
one section per topic, no machine paths, every figure it shows committed), and the end-to-end topic is bench_e2e's
own rendering once its results exist."""
import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "BENCHMARKS.md"
TOPICS = ["Summary", "NER", "Entity linking", "Relations", "End to end", "Speed and memory",
          "Serving and batch annotation", "GPU"]
BENCH_MODULES = ("report", "report_topics", "report_figures", "common", "bench_alignment", "bench_annotate",
                 "bench_e2e", "bench_int8_layers", "bench_memory", "bench_ner", "bench_ner_ablation", "bench_ner_calibration", "bench_profile",
                 "bench_ray",
                 "bench_rel", "bench_rel_cost", "bench_server", "bench_speed", "bench_tapt", "bench_linker", "rel_baselines",
                 "throughput_report", "waves_report")


@pytest.fixture
def report(monkeypatch):
    """``bench/report.py`` imported as the scripts import it (``bench/`` and ``bench/gpu/`` on ``sys.path``)."""
    monkeypatch.syspath_prepend(str(ROOT / "bench" / "gpu"))
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    for name in BENCH_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    import report

    return report


def test_benchmarks_md_is_the_rendering_of_the_committed_results(report):
    assert BENCHMARKS.read_text(encoding="utf8") == report.render(), "run: python bench/report.py"


def test_summary_first_then_one_section_per_topic():
    text = BENCHMARKS.read_text(encoding="utf8")
    assert re.findall(r"^## (.+)$", text, flags=re.M) == TOPICS
    summary = text.split("## Summary", 1)[1].split("\n## ", 1)[0]
    assert summary.count("\n| [") == len(TOPICS) - 1  # one row per topic, each linking to its section


def test_no_machine_paths_and_every_figure_is_committed():
    text = BENCHMARKS.read_text(encoding="utf8")
    assert not re.search(r"(?<![\w./-])/(tmp|work|root|home)/", text)
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(figures) >= 3 and all((ROOT / f).is_file() for f in figures)


def test_scrub_keeps_what_follows_the_machine_folders(report):
    text = "encoder `/tmp/gpu_bundle/minilm` and /work/main/assets/cdr/x.gz, not bench/tmp/a/b or /usr/bin/python"
    assert report.scrub(text) == "encoder `minilm` and assets/cdr/x.gz, not bench/tmp/a/b or /usr/bin/python"


def test_body_drops_title_and_method_lines(report):
    section = "## T\n\nCommand: `x` — date.\nCandidate recall: test recall if\n\n| a |\n| --- |\n\n\nRaw results: `z`.\nTargets: q\n"
    assert report.body(section) == ["| a |", "| --- |"]
    assert report.body(section, keep=("Targets",))[-1] == "Targets: q"


def e2e_results() -> dict:
    """A results file of bench_e2e.py for one system (figures made up)."""
    prf = {"p": 0.5, "r": 0.4, "f": 0.444}
    split = {"ner": {"ents_p": 0.85, "ents_r": 0.8, "ents_f": 0.824}, "linking": prf, "cid": prf,
             "cooccurrence_sentence": {"p": 0.14, "r": 0.34, "f": 0.197},
             "cooccurrence_document": {"p": 0.1, "r": 0.5, "f": 0.167},
             "waterfall": {"gold": 100, "found": 70, "linked": 60, "predicted": 40, "reach": 65}}
    system = {"pipeline": "training/e2e", "linker_threshold": {"threshold": 0.8, "sweep": {"0.8": 0.8}},
              "rel_threshold": 0.35, "dev": split, "dev_docs": 500, "test": split, "test_docs": 500,
              "speed": {"words": 120518, "seconds": 60.0, "words_per_s": 2008.6},
              "kb_lever": {"train mentions": {"concepts": 4000, "linking_f": 0.6, "reach": 0.55},
                           "train mentions + MeSH-lite": {"concepts": 30000, "linking_f": 0.7, "reach": 0.6}}}
    return {"date": "d", "machine": {"nproc": 2, "cpu": "cpu"}, "threads": 2,
            "command": "python bench/bench_e2e.py --system shipped=training/e2e", "systems": {"shipped": system},
            "pick": "shipped"}


def test_end_to_end_topic_is_bench_e2e_rendering_once_run(report, tmp_path, monkeypatch):
    import json

    import bench_e2e
    import report_topics

    results = tmp_path / "results"
    shutil.copytree(ROOT / "bench" / "results", results)
    (results / "e2e.json").write_text(json.dumps(e2e_results()), encoding="utf8")
    monkeypatch.setattr(report, "RESULTS", results)
    monkeypatch.setattr(report_topics, "RESULTS", results)
    text = report.render()
    topic = text.split("\n## End to end\n", 1)[1].split("\n## ", 1)[0]
    table = [line for line in bench_e2e.markdown(e2e_results(), "cmd").splitlines() if line.startswith("|")]
    assert all(line in topic for line in table) and "Not run yet" not in topic
    assert "| shipped (pick) |" in topic and "![waterfall](bench/results/e2e_waterfall.png)" in topic
    assert "| [End to end](#end-to-end) | CID F from raw text (NER → linking → relations) | **44.40** (shipped)" in text
