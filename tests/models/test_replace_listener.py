"""spaCy's ``replace_listeners`` on this package's transformers: the component gets its own copy of the encoder,
predicts exactly as it did through the listener, and the pipeline saved afterwards loads."""
import pytest
import spacy

from spacy_biobert.models.replace_listener import OWN_ENCODER_ARCHITECTURE
from tests.util import LISTENER, TRANSFORMER, make_rel_nlp, rel_examples, train_rel

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def concept_scores(nlp, egs):
    """The score of every candidate concept pair of each example's predicted doc (gold entities), threshold 0."""
    with nlp.get_pipe("biobert_rel").temporarily(threshold=0.0):
        return [dict(doc._.biobert_concept_relations) for doc in nlp.pipe(eg.predicted.copy() for eg in egs)]


def test_replacement_config_keeps_the_encoder_settings_and_the_listener_pooling():
    nlp = spacy.blank("en")
    transformer = nlp.add_pipe("transformer", config={"model": {**TRANSFORMER, "name": "x"}})
    make_cfg = transformer.model.attrs["replace_listener_cfg"]
    transformer_cfg = nlp.get_pipe_config("transformer")["model"]
    listener_cfg = {**LISTENER, "upstream": "*", "grad_factor": 0.5}
    new = make_cfg(transformer_cfg, listener_cfg)
    assert new["@architectures"] == OWN_ENCODER_ARCHITECTURE
    settings = {key: value for key, value in transformer_cfg.items() if key != "@architectures"}
    assert {key: new[key] for key in settings} == settings and new["sort_windows"] is True
    assert new["get_spans"] == TRANSFORMER["get_spans"] and new["name"] == "x"
    assert new["pooling"] == LISTENER["pooling"] and new["grad_factor"] == 0.5 and "upstream" not in new
    not_a_listener = {"@architectures": "spacy.HashEmbedCNN.v2"}
    assert make_cfg(transformer_cfg, not_a_listener) == transformer_cfg


@pytest.mark.parametrize("sort_windows", [False, True])
def test_replaced_listener_predicts_the_same_and_survives_saving(tiny_bert, tmp_path, sort_windows):
    nlp = make_rel_nlp(tiny_bert)
    nlp.replace_pipe("transformer", "transformer",
                     config={"model": {**TRANSFORMER, "name": tiny_bert, "sort_windows": sort_windows}})
    egs = rel_examples(nlp)
    train_rel(nlp, egs, steps=3)
    before = concept_scores(nlp, egs)
    assert all(before)
    nlp.replace_listeners("transformer", "biobert_rel", ["model.tok2vec"])
    assert nlp.get_pipe("transformer").listening_components == []
    tok2vec_cfg = nlp.config["components"]["biobert_rel"]["model"]["tok2vec"]
    assert tok2vec_cfg["@architectures"] == OWN_ENCODER_ARCHITECTURE and tok2vec_cfg["sort_windows"] is sort_windows
    nlp.remove_pipe("transformer")  # the relation head no longer needs it
    assert concept_scores(nlp, egs) == before
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert loaded.pipe_names == ["sentencizer", "biobert_rel"]
    assert concept_scores(loaded, egs) == before
