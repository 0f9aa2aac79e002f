"""bench/bench_rel_more_data.py: both relation arms get one budget, a rerun reuses what was trained, and the
section reports both arms on the held-out half of dev (and end to end when measured)."""
import argparse

from tests.util import import_bench_script


def bench_module(monkeypatch):
    return import_bench_script(monkeypatch, "bench_rel_more_data", "bench_rel", "bench_ner_more_data", "bench_ner",
                               "rel_baselines", "common")


def test_both_arms_get_the_same_schedule_and_one_evaluation_at_the_end(monkeypatch, tmp_path):
    bench = bench_module(monkeypatch)
    args = argparse.Namespace(dev_docs=50, encoder="enc", max_steps=600, batch_words=2000, learn_rate=1e-4)
    train, more = (bench.overrides(tmp_path / name, tmp_path / "dev_b.spacy", args) for name in ("a", "b"))
    assert train.pop("paths.train") != more.pop("paths.train") and train == more
    assert train["training.eval_frequency"] == 600 and train["training.optimizer.learn_rate.warmup_steps"] == 60


def test_a_rerun_reuses_a_trained_model_and_trains_a_missing_one(monkeypatch, tmp_path):
    bench = bench_module(monkeypatch)
    trained = []

    def fake_train(config, output, overrides, log):
        (output / "model-last").mkdir(parents=True)
        trained.append(output)
        return 12.0

    monkeypatch.setattr(bench, "spacy_train", fake_train)
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / bench.TRAINED).write_text("1 s\n")
    (tmp_path / "stopped" / "model-last").mkdir(parents=True)  # a run stopped after its first evaluation
    assert bench.train_once(tmp_path / "rel.cfg", tmp_path / "done", {}, tmp_path / "log.txt") is None
    assert bench.train_once(tmp_path / "rel.cfg", tmp_path / "new", {}, tmp_path / "log.txt") == 12.0
    assert (tmp_path / "new" / bench.TRAINED).exists()
    assert trained == [tmp_path / "new"] and "reusing model-last" in (tmp_path / "log.txt").read_text()
    trained.clear()
    (tmp_path / "stopped" / "model-last").rmdir()
    assert bench.train_once(tmp_path / "rel.cfg", tmp_path / "stopped", {}, tmp_path / "log.txt") == 12.0
    assert trained == [tmp_path / "stopped"]


def results(end_to_end=None):
    prf = lambda f, t=0.3: {"p": f, "r": f, "f": f, "threshold": t}  # noqa: E731
    return {"date": "d", "machine": {"nproc": 2, "cpu": "cpu"}, "threads": 2, "command": "c",
            "config": "configs/rel.cfg", "max_steps": 600,
            "arms": {"train": {"docs": 250, "dev_b": prf(0.5), "test": prf(0.45)},
                     "train + dev A": {"docs": 250, "dev_b": prf(0.52, 0.4), "test": prf(0.47, 0.4)}},
            **({"end_to_end": end_to_end} if end_to_end else {})}


def test_the_section_reports_both_arms_on_the_held_out_half(monkeypatch):
    text = bench_module(monkeypatch).section(results())
    assert "| train + dev A | 52.00 / 52.00 / **52.00** (t=0.4) | 47.00 / 47.00 / **47.00** |" in text
    assert "other 250 dev documents" in text and "+2.00" in text and "End to end" not in text


def test_the_section_adds_the_end_to_end_table_when_measured(monkeypatch):
    cal = lambda f: {"dev_p": f, "dev_r": f, "dev_f": f, "threshold": 0.9, "title_bonus": 0.5}  # noqa: E731
    text = bench_module(monkeypatch).section(results({"ner": "n", "ner_steps": 500, "head_epochs": 8,
                                                      "arms": {"train": cal(0.40), "train + dev A": cal(0.39)}}))
    assert "| train | 40.00 / 40.00 / **40.00** | 0.9 | 0.5 |" in text
    assert "trained 500 steps on train + dev A" in text and "Dev B CID F -1.00" in text
