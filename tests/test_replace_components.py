"""scripts/replace_components.py: the final NER's weights go into the calibrated pipeline, everything else stays."""
import importlib
import sys

import numpy
import pytest
import spacy

from tests.util import ROOT, linked_pipeline

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def script(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    monkeypatch.delitem(sys.modules, "replace_components", raising=False)
    return importlib.import_module("replace_components")


def head_params(nlp, name):
    return [node.get_param(p).copy() for node in nlp.get_pipe(name).model.walk() for p in node.param_names
            if node.has_param(p)]


def test_the_named_components_come_from_the_source_and_the_rest_stays(script, joint_model, tmp_path):
    linked_pipeline(joint_model, tmp_path / "calibrated")
    calibrated = spacy.load(tmp_path / "calibrated")
    calibrated.meta["calibration"] = {"biobert_rel": {"threshold": 0.5}}
    calibrated.to_disk(tmp_path / "calibrated")
    source = spacy.load(joint_model)  # the same architecture with other NER weights
    rng = numpy.random.default_rng(0)
    for node in source.get_pipe("biobert_ner").model.walk():
        for name in node.param_names:
            if node.has_param(name):
                value = node.get_param(name)
                node.set_param(name, value + rng.normal(size=value.shape).astype(value.dtype))
    source.to_disk(tmp_path / "final_ner")
    script.replace_components(tmp_path / "calibrated", tmp_path / "final_ner", tmp_path / "out",
                              ["transformer", "biobert_ner"])
    out = spacy.load(tmp_path / "out")
    for got, want in zip(head_params(out, "biobert_ner"), head_params(spacy.load(tmp_path / "final_ner"), "biobert_ner")):
        numpy.testing.assert_array_equal(got, want)
    for got, want in zip(head_params(out, "biobert_rel"), head_params(calibrated, "biobert_rel")):
        numpy.testing.assert_array_equal(got, want)
    assert out.pipe_names == calibrated.pipe_names and out.meta["calibration"] == calibrated.meta["calibration"]
    text = "Cisplatin caused nephrotoxicity ."
    assert [(e.start, e.end, e.label_) for e in out(text).ents] == [
        (e.start, e.end, e.label_) for e in spacy.load(tmp_path / "final_ner")(text).ents]


def test_a_component_the_source_lacks_is_named(script, joint_model, saved_ner_model, tmp_path):
    linked_pipeline(joint_model, tmp_path / "calibrated")
    with pytest.raises(SystemExit, match="no component 'biobert_rel'"):
        script.replace_components(tmp_path / "calibrated", saved_ner_model, tmp_path / "out", ["biobert_rel"])
