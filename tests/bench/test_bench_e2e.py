"""bench/bench_e2e.py on a tiny end-to-end pipeline (the toy relation corpus as train, dev and test): thresholds
chosen on dev, the waterfall and both co-occurrence baselines scored, the report and the plot written."""
import argparse

import pytest
import spacy

from spacy_biobert.scoring.rel_threshold import DEFAULT_THRESHOLDS
from tests.util import REL_TOY, import_bench_script, linked_pipeline, rel_reference, write_docbin

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def bench_e2e(monkeypatch):
    """``bench/bench_e2e.py`` imported as the scripts import it (``bench/`` first on ``sys.path``)."""
    return import_bench_script(monkeypatch, "bench_e2e", "common", "bench_linker", "rel_baselines")


def test_thresholds_are_chosen_on_dev_and_every_figure_is_reported(bench_e2e, joint_model, tmp_path):
    linked_pipeline(joint_model, tmp_path / "e2e")
    blank = spacy.blank("en")
    (tmp_path / "corpus").mkdir()
    for split in ("train", "dev", "test"):
        write_docbin(tmp_path / "corpus" / f"{split}.spacy", [rel_reference(blank, *row) for row in REL_TOY])
    kbs = {"dev": bench_e2e.build_kb({"corpus": [tmp_path / "corpus" / "train.spacy"]}), "test": None}
    kbs["test"] = kbs["dev_no_mesh"] = kbs["dev"]
    args = argparse.Namespace(dev_docs=0, test_docs=0, linker_thresholds=[0.5, 0.9], batch_size=2,
                              title_bonuses=[0.0, 0.5])
    result = bench_e2e.run_system(tmp_path / "e2e", kbs, tmp_path / "corpus", args)
    assert result["linker_threshold"]["threshold"] in (0.5, 0.9) and set(result["linker_threshold"]["sweep"]) == {
        "0.5", "0.9"}
    for split in ("dev", "test"):
        scores = result[split]
        assert scores["waterfall"]["gold"] == 3  # REL_TOY's three CID pairs
        assert scores["waterfall"]["predicted"] <= scores["waterfall"]["linked"] <= scores["waterfall"]["found"] <= 3
        assert {"ner", "linking", "cid", "cooccurrence_sentence", "cooccurrence_document"} <= set(scores)
        # document co-occurrence predicts a superset of the sentence pairs: recall at least as high
        assert scores["cooccurrence_document"]["r"] >= scores["cooccurrence_sentence"]["r"]
    assert result["title_bonus"] in (0.0, 0.5) and result["rel_threshold"] in DEFAULT_THRESHOLDS
    assert result["no_title_bonus"]["rel_threshold"] in DEFAULT_THRESHOLDS  # the lever's worth, beside
    assert result["dev"]["cid"]["f"] >= result["no_title_bonus"]["dev_cid"]["f"]  # the bonus is chosen on dev
    args.title_bonuses = [0.0]  # no bonus: the figures without it are the figures
    plain = bench_e2e.run_system(tmp_path / "e2e", kbs, tmp_path / "corpus", args)
    assert plain["no_title_bonus"]["dev_cid"] == plain["dev"]["cid"]
    assert plain["no_title_bonus"]["test_cid"] == plain["test"]["cid"]
    assert set(result["kb_lever"]) == {"train mentions", "train mentions + MeSH-lite"}
    assert all(0 <= r["reach"] <= 1 for r in result["kb_lever"].values())
    assert not result["pipeline"].startswith("/")  # no machine path in the results
    assert result["speed"]["words"] == sum(len(blank.make_doc(row[0])) for row in REL_TOY)
    results = {"date": "today", "machine": {"nproc": 2, "cpu": "cpu"}, "threads": 1, "command": "cmd",
               "systems": {"tiny": result}, "pick": "tiny", "anchors": bench_e2e.ANCHORS}
    text = bench_e2e.markdown(results, "cmd")
    assert "CID F without title bonus" in text and "title bonus" in text.split("Waterfall of the gold CID pairs")[1]
    assert "| train mentions + MeSH-lite |" in text and "| tiny (pick) |" in text and "... and linked to the right ids" in text and "Targets (test): CID F" in text
    bench_e2e.plot_waterfall(results, tmp_path / "waterfall.png")
    assert (tmp_path / "waterfall.png").read_bytes()[:4] == b"\x89PNG"


def test_a_pipeline_trained_on_dev_takes_its_dev_choices_from_the_one_it_finalises(bench_e2e, joint_model, tmp_path):
    linked_pipeline(joint_model, tmp_path / "e2e")
    # the "final" pipeline: its NER finds nothing, so what is scored on test is visibly this one
    spacy.load(tmp_path / "e2e", config={"components": {"biobert_ner": {"outside_weight": 1e9}}}).to_disk(
        tmp_path / "final")
    blank = spacy.blank("en")
    (tmp_path / "corpus").mkdir()
    for split in ("train", "dev", "test"):
        write_docbin(tmp_path / "corpus" / f"{split}.spacy", [rel_reference(blank, *row) for row in REL_TOY])
    kbs = {"dev": bench_e2e.build_kb({"corpus": [tmp_path / "corpus" / "train.spacy"]})}
    kbs["test"] = kbs["dev_no_mesh"] = kbs["dev"]
    args = argparse.Namespace(dev_docs=0, test_docs=0, linker_thresholds=[0.5, 0.9], batch_size=2,
                              title_bonuses=[0.0, 0.5])
    chosen = bench_e2e.run_system(tmp_path / "e2e", kbs, tmp_path / "corpus", args)
    final = bench_e2e.run_system(tmp_path / "final", kbs, tmp_path / "corpus", args, chosen_with=tmp_path / "e2e")
    assert final["dev"] == chosen["dev"] and final["rel_threshold"] == chosen["rel_threshold"]
    assert final["linker_threshold"] == chosen["linker_threshold"] and final["title_bonus"] == chosen["title_bonus"]
    assert chosen["test"]["waterfall"]["found"] > 0 and final["test"]["waterfall"]["found"] == 0
    assert final["chosen_with"] == "e2e" or final["chosen_with"].endswith("e2e")


def test_the_command_shows_no_machine_path(bench_e2e, tmp_path):
    root = bench_e2e.ROOT
    command = bench_e2e.shown_command(["--corpus", str(root / "corpus"), "--system", f"a={tmp_path / 'pipe'}",
                                       "--system", f"b={root / 'training' / 'e2e'}", "--system",
                                       f"c={root / 'training' / 'e2e_final'},{root / 'training' / 'e2e'}",
                                       "--budget", "NER 500 steps"])
    assert command == ("python bench/bench_e2e.py --corpus corpus --system a=pipe --system b=training/e2e "
                       "--system c=training/e2e_final,training/e2e --budget NER 500 steps")
