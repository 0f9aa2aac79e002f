"""bench/bench_rel.py's report: the rows of the trained systems keep their format (the committed BENCHMARKS.md
section is what its results file renders to), the co-occurrence baselines get rows without threshold or training."""
import copy
import json
import re
from pathlib import Path

import pytest

from tests.util import import_bench_script

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench_rel(monkeypatch):
    """``bench/bench_rel.py`` imported as the scripts import it (``bench/`` first on ``sys.path``)."""
    return import_bench_script(monkeypatch, "bench_rel", "common", "rel_baselines")


def table_rows(text: str):
    return [line for line in text.splitlines() if re.match(r"\| (ours|rel_component|sentence)", line)]


def test_rows_of_the_committed_results_are_unchanged(bench_rel):
    results = json.loads((ROOT / "bench" / "results" / "rel.json").read_text(encoding="utf8"))
    committed = (ROOT / "BENCHMARKS.md").read_text(encoding="utf8")
    rows = table_rows(bench_rel.markdown(results, "python bench/bench_rel.py"))
    assert rows and all(row in committed for row in rows)


def test_cooccurrence_rows_have_no_threshold_and_no_training(bench_rel):
    results = json.loads((ROOT / "bench" / "results" / "rel.json").read_text(encoding="utf8"))
    scores = {"p": 0.4, "r": 0.8, "f": 0.5333, "threshold": None}
    results["settings"]["ner_model"] = "bench/runs/rel/ours_end_to_end/model-best"
    results["systems"] = {"cooccurrence_end_to_end": {"train_s": 0.0, "dev_tuned": dict(scores, f=0.5),
                                                      "test": scores, "test_at_0.5": copy.copy(scores),
                                                      "test_candidate_recall": 0.8}}
    text = bench_rel.markdown(results, "python bench/bench_rel.py --systems cooccurrence_end_to_end")
    assert table_rows(text) == ["| sentence co-occurrence, end to end (NER entities) | 40.00 / 80.00 / **53.33** "
                                "(t=n/a) | 40.00 / 80.00 / 53.33 | 50.00 | none | 80.00 |"]
    assert "entities and ids of `bench/runs/rel/ours_end_to_end/model-best`" in text
