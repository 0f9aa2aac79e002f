"""Training a relation head on cached encoder outputs (:mod:`spacy_biobert.pipeline.rel_cached`): the table holds
what the pipeline computes, training lowers the head's loss and leaves the encoder alone."""
import numpy
import pytest
import spacy
import torch

from spacy_biobert.cli.evaluate import load_examples
from spacy_biobert.pipeline.rel_cached import (
    PairTable,
    fit_head,
    pair_table,
    table_probabilities,
    upstream_components,
)
from tests.util import REL_TOY, rel_reference, write_docbin

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def train_path(tmp_path):
    """The toy relation corpus as a .spacy file (gold entities, ids and concept relations)."""
    return write_docbin(tmp_path / "train.spacy", [rel_reference(spacy.blank("en"), *row) for row in REL_TOY])


def encoder_tensors(nlp):
    """Copies of the transformer's torch weights."""
    model = nlp.get_pipe("transformer").model
    return [t.clone() for node in model.walk() for shim in node.shims for t in shim._model.state_dict().values()]


def test_gold_entities_skip_the_components_that_write_entities(joint_model):
    nlp = spacy.load(joint_model)
    assert "biobert_ner" in nlp.pipe_names
    assert upstream_components(nlp, "biobert_rel", "gold") == ["sentencizer", "transformer"]
    assert upstream_components(nlp, "biobert_rel", "predicted") == ["sentencizer", "transformer", "biobert_ner"]
    with pytest.raises(ValueError, match="entities must be one of"):
        upstream_components(nlp, "biobert_rel", "both")


def test_the_table_scores_as_the_pipeline_does(joint_model, train_path):
    nlp = spacy.load(joint_model)
    pipe = nlp.get_pipe("biobert_rel")
    examples = load_examples(nlp, train_path, gold_entities=True)
    table = pair_table(nlp, examples, batch_size=2)
    assert table.n_docs == len(REL_TOY) and table.truths.sum() > 0
    assert len(table.features) == len(table.truths) == table.offsets[-1]
    with nlp.select_pipes(disable=["biobert_ner"]):  # the gold entities stay
        docs = list(nlp.pipe(eg.predicted for eg in load_examples(nlp, train_path, gold_entities=True)))
    expected = numpy.concatenate([probs for _, probs in pipe.predict(docs)])
    numpy.testing.assert_allclose(table_probabilities(pipe, table), expected, rtol=1e-4, atol=1e-5)


def test_fitting_lowers_the_loss_and_leaves_the_encoder_alone(joint_model, train_path):
    nlp = spacy.load(joint_model)
    pipe = nlp.get_pipe("biobert_rel")
    encoder = encoder_tensors(nlp)
    table = pair_table(nlp, load_examples(nlp, train_path, gold_entities=True))
    before = table_probabilities(pipe, table)
    losses = fit_head(pipe, table, epochs=20, learn_rate=0.01, batch_docs=2, dropout=0.0)
    assert len(losses) == 20 and losses[-1] < losses[0]
    after = table_probabilities(pipe, table)
    positive = table.truths[:, 0] == 1
    assert after[positive, 0].mean() - after[~positive, 0].mean() > before[positive, 0].mean() - before[~positive, 0].mean()
    assert all(torch.equal(a, b) for a, b in zip(encoder_tensors(nlp), encoder)) and encoder


def test_rows_of_documents_follow_the_offsets():
    table = PairTable(numpy.arange(10, dtype="f").reshape(5, 2), numpy.zeros((5, 1), "f"), numpy.array([0, 2, 2, 5]))
    assert table.n_docs == 3
    assert table.rows([2, 0]).tolist() == [2, 3, 4, 0, 1] and table.rows([1]).tolist() == []
