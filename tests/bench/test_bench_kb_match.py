"""bench/bench_kb_match.py: the section shows each dictionary's coverage and the run's dev F beside the run
without the feature."""
from tests.util import import_bench_script


def test_the_section_shows_coverage_and_each_evaluation_beside_the_baseline(monkeypatch):
    bench = import_bench_script(monkeypatch, "bench_kb_match", "common")
    coverage = {"mentions": 1000, "mentions_matched": 736, "mention_coverage": 0.736, "matched_tokens": 10,
                "matched_tokens_in_mentions": 0.5}
    text = bench.section({"coverage": {"MeSH-lite: dev": coverage},
                          "runs": {"kb_match": [{"step": 0, "ents_f": 0.0, "ents_p": 0.0, "ents_r": 0.0},
                                                {"step": 500, "ents_f": 83.5, "ents_p": 84.0, "ents_r": 83.0}]},
                          "baseline_best_dev": {"max_steps": 500, "ents_f": 83.26, "ents_p": 84.23, "ents_r": 82.32}})
    assert "| MeSH-lite: dev | 73.6 % of 1,000 | 50.0 % |" in text
    assert "| kb_match | 500 | 84.00 / 83.00 / **83.50** |" in text and "| kb_match | 0 |" not in text
    assert "500-step run) | best | 84.23 / 82.32 / **83.26** |" in text
    assert "kb_match at step 500: dev F 83.50 against 83.26 without (+0.24)." in text
