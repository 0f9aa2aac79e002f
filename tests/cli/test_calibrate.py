"""``spacy biobert calibrate``: the dev-tuned relation threshold is saved with the pipeline and survives spacy.load."""
import re

import pytest
import spacy

from spacy_biobert.cli.calibrate import calibrate
from spacy_biobert.scoring.rel_threshold import DEFAULT_THRESHOLDS
from tests.util import REL_TOY, invoke, rel_reference, write_docbin

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


def test_the_threshold_survives_spacy_load_in_cfg_and_config(joint_model, dev, tmp_path):
    nlp = spacy.load(joint_model)
    found = calibrate(nlp, dev, thresholds=[0.001], limit=1)  # end to end, one document
    assert found.threshold == 0.001 and found.previous == 0.5
    nlp.to_disk(tmp_path / "out")
    assert saved_thresholds(tmp_path / "out") == (0.001, 0.001)


def failure(*args) -> str:
    """The message of a ``calibrate`` run that must exit 1, on one line."""
    return " ".join(invoke("calibrate", *args, exit_code=1).output.split())


def test_clear_errors(joint_model, dev, tmp_path):
    out = tmp_path / "out"
    message = failure(joint_model, dev, out, "--component", "nope")
    assert "no component 'nope'" in message and "biobert_rel" in message
    assert "'biobert_ner' is a BioBertNER, not a biobert_rel" in failure(joint_model, dev, out, "--component",
                                                                         "biobert_ner")
    missing = tmp_path / "missing.spacy"
    assert f"dev data {missing} does not exist" in failure(joint_model, missing, out)
    nlp = spacy.blank("en")
    bare = write_docbin(tmp_path / "bare.spacy", [nlp.make_doc(row[0]) for row in REL_TOY])
    assert "no gold concept relation in the 2 dev documents" in failure(joint_model, bare, out)
    assert not out.exists()
