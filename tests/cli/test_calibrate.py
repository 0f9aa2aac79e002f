"""``spacy biobert calibrate``: the dev-tuned relation threshold is saved with the pipeline and survives spacy.load."""
import re

import pytest
import spacy

from spacy_biobert.cli.calibrate import calibrate, calibrate_ner
from spacy_biobert.pipeline.settings import set_setting
from spacy_biobert.scoring.ner_calibration import DEFAULT_OUTSIDE_WEIGHTS
from spacy_biobert.scoring.rel_threshold import DEFAULT_THRESHOLDS, DEFAULT_TITLE_BONUSES
from tests.util import NER_TRAIN, REL_TOY, invoke, linked_pipeline, ner_examples, rel_reference, write_docbin

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def dev(tmp_path):
    """The toy relation corpus as a dev .spacy file (gold entities, ids and concept relations)."""
    nlp = spacy.blank("en")
    return write_docbin(tmp_path / "dev.spacy", [rel_reference(nlp, *row) for row in REL_TOY])


def saved_thresholds(path):
    """The relation threshold of the pipeline at ``path`` in its cfg and in its config, once loaded (the cfg is
    read back by srsly's JSON parser, which may be off in the 16th digit: 0.95 -> 0.9500000000000001)."""
    nlp = spacy.load(path)
    cfg, config = nlp.get_pipe("biobert_rel").cfg["threshold"], nlp.config["components"]["biobert_rel"]["threshold"]
    return pytest.approx(cfg, abs=1e-12), config


def test_calibrate_saves_the_tuned_threshold(joint_model, dev, tmp_path):
    out = tmp_path / "calibrated"
    output = invoke("calibrate", joint_model, dev, out, "--gold-entities").output
    threshold = float(re.search(r"biobert_rel threshold = ([0-9.]+)", output).group(1))
    assert threshold in DEFAULT_THRESHOLDS and "previous threshold 0.5" in output
    assert saved_thresholds(out) == (threshold, threshold)
    assert "(2 dev documents, gold entities)" in output
    calibration = spacy.load(out).meta["calibration"]["biobert_rel"]
    assert calibration["threshold"] == pytest.approx(threshold, abs=1e-12) and calibration["dev_docs"] == 2
    assert calibration["entities"] == "gold entities" and 0 <= calibration["dev_f"] <= 1
    assert calibration["dev_path"] == "dev.spacy"  # given absolute, outside the working directory: no machine path
    bonus = float(re.search(r"title bonus = ([0-9.]+)", output).group(1))  # tuned with the threshold
    assert bonus in DEFAULT_TITLE_BONUSES and calibration["title_bonus"] == bonus
    assert spacy.load(out).get_pipe("biobert_rel").title_bonus == bonus


def test_the_dev_path_is_recorded_relative_to_the_working_directory(joint_model, dev, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    invoke("calibrate", joint_model, dev, tmp_path / "out", "--gold-entities")
    assert spacy.load(tmp_path / "out").meta["calibration"]["biobert_rel"]["dev_path"] == "dev.spacy"
    (tmp_path / "data").mkdir()
    nested = dev.rename(tmp_path / "data" / "dev.spacy")
    invoke("calibrate", joint_model, nested, tmp_path / "out2", "--gold-entities")
    assert spacy.load(tmp_path / "out2").meta["calibration"]["biobert_rel"]["dev_path"] == "data/dev.spacy"


def test_the_threshold_survives_spacy_load_in_cfg_and_config(joint_model, dev, tmp_path):
    nlp = spacy.load(joint_model)
    found = calibrate(nlp, dev, thresholds=[0.001], title_bonuses=[0.2], limit=1)  # end to end, one document
    assert found.threshold == 0.001 and found.previous == 0.5 and found.title_bonus == 0.2
    nlp.to_disk(tmp_path / "out")
    assert saved_thresholds(tmp_path / "out") == (0.001, 0.001)


def failure(*args) -> str:
    """The message of a ``calibrate`` run that must exit 1, on one line."""
    return " ".join(invoke("calibrate", *args, exit_code=1).output.split())


def test_clear_errors(joint_model, dev, tmp_path):
    out = tmp_path / "out"
    message = failure(joint_model, dev, out, "--component", "nope")
    assert "no component 'nope'" in message and "biobert_rel" in message
    assert "--gold-entities makes no sense for the NER component 'biobert_ner'" in failure(
        joint_model, dev, out, "--component", "biobert_ner", "--gold-entities")
    missing = tmp_path / "missing.spacy"
    assert f"{missing}: does not exist" in failure(joint_model, missing, out)
    nlp = spacy.blank("en")
    bare = write_docbin(tmp_path / "bare.spacy", [nlp.make_doc(row[0]) for row in REL_TOY])
    assert "no gold concept relation in the 2 dev documents" in failure(joint_model, bare, out)
    assert not out.exists()


# --- --component biobert_ner: the outside weight -------------------------------------------------------------

@pytest.fixture
def ner_dev(tmp_path):
    """The toy NER sentences as a dev .spacy file (gold entities only)."""
    nlp = spacy.blank("en")
    return write_docbin(tmp_path / "ner_dev.spacy", [eg.reference for eg in ner_examples(nlp, NER_TRAIN)])


def saved_weights(path):
    """The outside weight of the loaded pipeline at ``path``: in its cfg (JSON round trip) and in its config."""
    nlp = spacy.load(path)
    cfg = nlp.get_pipe("biobert_ner").cfg["outside_weight"]
    return pytest.approx(cfg, abs=1e-12), nlp.config["components"]["biobert_ner"]["outside_weight"]


def test_calibrate_ner_saves_the_tuned_outside_weight(saved_ner_model, ner_dev, tmp_path):
    out = tmp_path / "calibrated"
    output = invoke("calibrate", saved_ner_model, ner_dev, out, "--component", "biobert_ner").output
    weight = float(re.search(r"biobert_ner outside_weight = ([0-9.]+)", output).group(1))
    assert weight in DEFAULT_OUTSIDE_WEIGHTS and "dev entity P / R / F at outside weight 1.0" in output
    assert saved_weights(out) == (weight, weight)


def test_calibrate_ner_and_set_outside_weight_survive_spacy_load(saved_ner_model, ner_dev, tmp_path):
    nlp = spacy.load(saved_ner_model)
    found = calibrate_ner(nlp, ner_dev, weights=[0.05], limit=1)  # 1.0 is always tried too
    assert found.weight in (1.0, 0.05) and nlp.get_pipe("biobert_ner").cfg["outside_weight"] == found.weight
    ner_scores = nlp.evaluate(ner_examples(nlp, NER_TRAIN[:1]))
    with nlp.get_pipe("biobert_ner").temporarily(outside_weight=1.0):
        baseline = nlp.evaluate(ner_examples(nlp, NER_TRAIN[:1]))
    assert found.scores == pytest.approx({k: ner_scores[f"ents_{k}"] for k in "prf"})
    assert found.baseline_scores == pytest.approx({k: baseline[f"ents_{k}"] for k in "prf"})
    set_setting(nlp, "biobert_ner", "outside_weight", 0.05)
    nlp.to_disk(tmp_path / "out")
    assert saved_weights(tmp_path / "out") == (0.05, 0.05)


def test_ner_errors(saved_ner_model, joint_model, ner_dev, tmp_path):
    out = tmp_path / "out"
    assert "--gold-entities makes no sense for the NER component 'biobert_ner'" in failure(
        saved_ner_model, ner_dev, out, "--component", "biobert_ner", "--gold-entities")
    bare = write_docbin(tmp_path / "bare.spacy", [spacy.blank("en").make_doc(text) for text, _ in NER_TRAIN])
    assert "no gold entity in the 2 examples" in failure(saved_ner_model, bare, out, "--component", "biobert_ner")
    missing = tmp_path / "missing.spacy"
    assert f"{missing}: does not exist" in failure(saved_ner_model, missing, out, "-c", "biobert_ner")
    with pytest.raises(ValueError, match="'biobert_rel' is no biobert_ner component"):
        calibrate_ner(spacy.load(joint_model), ner_dev, component="biobert_rel")
    assert not out.exists()


def test_kb_links_with_another_kb_while_tuning_and_the_copy_keeps_its_own(joint_model, dev, tmp_path):
    from spacy_biobert.cli.calibrate import linking_with
    from spacy_biobert.kb import kb_from_corpus

    nlp = linked_pipeline(joint_model, tmp_path / "linked", [("X1", "cisplatin", "Chemical")])
    kb_from_corpus(dev).to_disk(tmp_path / "dev_kb")
    linker = nlp.get_pipe("biobert_linker")
    own = linker.kb
    with linking_with(nlp, tmp_path / "dev_kb"):
        assert "C1" in linker.kb and "X1" not in linker.kb
    assert linker.kb is own
    output = invoke("calibrate", tmp_path / "linked", dev, tmp_path / "out", "--kb", tmp_path / "dev_kb").output
    assert "biobert_rel threshold = " in output
    assert [c.id for c in spacy.load(tmp_path / "out").get_pipe("biobert_linker").kb] == ["X1"]
    assert "has no biobert_linker" in failure(joint_model, dev, tmp_path / "o2", "--kb", tmp_path / "dev_kb")


def test_a_pipeline_that_scores_nothing_on_dev_is_saved_unchanged_and_says_so(joint_model, tmp_path):
    """E.g. the main job's pipeline after a few steps: no entity pair on dev, so no threshold can be chosen."""
    nlp = spacy.blank("en")
    empty = write_docbin(tmp_path / "dev.spacy", [rel_reference(nlp, *row) for row in REL_TOY])
    from spacy_biobert.pipeline.settings import set_setting

    model = spacy.load(joint_model)
    set_setting(model, "biobert_ner", "outside_weight", 1e6)  # the NER now predicts no entity at all
    model.to_disk(tmp_path / "blind")
    output = " ".join(invoke("calibrate", tmp_path / "blind", empty, tmp_path / "out").output.split())
    assert "Not tuned: biobert_rel scored no candidate pair on the 2 dev documents" in output
    saved = spacy.load(tmp_path / "out")
    assert saved.get_pipe("biobert_rel").threshold == 0.5
    calibration = saved.meta["calibration"]["biobert_rel"]
    assert calibration["tuned"] is False and calibration["threshold"] == 0.5 and "no candidate pair" in calibration["reason"]
