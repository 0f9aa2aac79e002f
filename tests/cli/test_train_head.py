"""``spacy biobert train-head``: the saved copy has the trained relation head, the same encoder, and says what was
done in its meta."""
import numpy
import pytest
import spacy

from tests.util import REL_TOY, invoke, rel_reference, write_docbin

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def train_path(tmp_path):
    return write_docbin(tmp_path / "train.spacy", [rel_reference(spacy.blank("en"), *row) for row in REL_TOY])


def weights(nlp, name):
    """Every parameter of component ``name``: thinc's and those of the torch modules inside it."""
    model = nlp.get_pipe(name).model
    found = [node.get_param(p) for node in model.walk() for p in node.param_names if node.has_param(p)]
    found += [t.detach().numpy() for node in model.walk() for shim in node.shims
              for t in shim._model.state_dict().values()]
    return found


def same(a, b):
    return len(a) == len(b) and all(numpy.array_equal(x, y) for x, y in zip(a, b))


def scores(nlp, text):
    nlp.get_pipe("biobert_rel").threshold = 0.0
    return nlp(text)._.biobert_concept_relations


def test_the_copy_has_the_trained_head_and_the_same_encoder(joint_model, train_path, tmp_path):
    out = tmp_path / "out"
    output = " ".join(invoke("train-head", joint_model, train_path, out, "--epochs", "5", "--learn-rate", "0.01")
                      .output.split())
    assert f"Saved the pipeline with the trained biobert_rel to {out}" in output and "5 epochs" in output
    before, after = spacy.load(joint_model), spacy.load(out)
    assert same(weights(after, "transformer"), weights(before, "transformer")) and weights(after, "transformer")
    assert same(weights(after, "biobert_ner"), weights(before, "biobert_ner"))
    assert not same(weights(after, "biobert_rel"), weights(before, "biobert_rel"))
    text = REL_TOY[0][0]
    assert scores(before, text).keys() == scores(after, text).keys() and scores(after, text)  # the same candidates
    done = after.meta["head_training"]["biobert_rel"]
    assert done["docs"] == len(REL_TOY) and done["epochs"] == 5 and done["entities"] == "gold"
    assert done["positives"] > 0 and done["pairs"] >= done["positives"]


def test_clear_errors(joint_model, train_path, tmp_path):
    def failure(*args):
        return " ".join(invoke("train-head", *args, exit_code=1).output.split())

    assert "no component 'nope'" in failure(joint_model, train_path, tmp_path / "o1", "--component", "nope")
    assert "component 'biobert_ner' is a BioBertNER" in failure(joint_model, train_path, tmp_path / "o2", "-c", "biobert_ner")
    assert "--entities must be one of gold, predicted" in failure(joint_model, train_path, tmp_path / "o3",
                                                                  "--entities", "both")
