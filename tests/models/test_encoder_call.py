"""Inference speed settings of ``spacy_biobert.TransformerModel.v2``: same vectors sorted, int8 close and opt-in."""
import numpy
import pytest
import spacy
import torch
from spacy.training import Example
from spacy.util import fix_random_seed

from spacy_biobert.models.encoder_call import Int8Encoder, sorted_chunks
from tests.util import LISTENER, TRANSFORMER

TEXTS = [
    "Lithium caused tremor.",
    "Famotidine-associated delirium in a patient with renal failure treated with cisplatin and carboplatin "
    "for ovarian cancer; nephrotoxicity and ototoxicity were reduced by amifostine. " * 3,
    "",
    "Naloxone reverses the antihypertensive effect of clonidine.",
    "A case of acute renal damage after high-dose methotrexate. " * 9,
]


def transformer_nlp_v2(name: str, **settings):
    nlp = spacy.blank("en")
    model = {**TRANSFORMER, "@architectures": "spacy_biobert.TransformerModel.v2", "name": name, **settings}
    nlp.add_pipe("transformer", config={"model": model})
    nlp.initialize()
    return nlp


def token_vectors(nlp, texts, batch_size=8):
    """Per doc, the encoder's output over its windows' real wordpieces (padding left out)."""
    vectors = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        trf = doc._.trf_data
        rows = [trf.tensors[0][i, :n] for i, n in enumerate(trf.wordpieces.lengths)] if trf.tensors else []
        vectors.append(numpy.concatenate(rows) if rows else numpy.zeros((0,)))
    return vectors


@pytest.mark.parametrize("max_padded", [1, 7, 40, 10_000])
def test_sorted_chunks_cover_every_row_once_within_budget(max_padded):
    lengths = [5, 12, 3, 3, 9, 12, 1, 7]
    chunks = sorted_chunks(lengths, max_padded)
    flat = numpy.concatenate(chunks)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths)
    for rows in chunks:
        assert len(rows) == 1 or max(lengths[i] for i in rows) * len(rows) <= max_padded


def test_sorted_windows_give_the_unsorted_vectors(tiny_bert):
    plain = token_vectors(transformer_nlp_v2(tiny_bert, sort_windows=False), TEXTS)
    sorted_ = token_vectors(transformer_nlp_v2(tiny_bert, sort_windows=True, chunk_wordpieces=64), TEXTS)
    assert [a.shape for a in plain] == [b.shape for b in sorted_]
    for a, b in zip(plain, sorted_):
        numpy.testing.assert_allclose(a, b, atol=1e-5)


def test_int8_is_close_and_leaves_the_saved_weights_fp32(tiny_bert):
    fp32_nlp = transformer_nlp_v2(tiny_bert)
    int8_nlp = transformer_nlp_v2(tiny_bert, int8_inference=True)
    encoder = int8_nlp.get_pipe("transformer").model.transformer
    saved = {key: value.clone() for key, value in encoder.state_dict().items()}
    fp32, int8 = token_vectors(fp32_nlp, TEXTS), token_vectors(int8_nlp, TEXTS)
    for a, b in zip(fp32, int8):
        if a.size:
            assert not numpy.array_equal(a, b)  # the quantised copy really ran
            assert numpy.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.98
    assert int8_nlp.get_pipe("transformer").model.transformer is encoder  # the int8 copy ran beside it, not in it
    after = encoder.state_dict()
    assert after.keys() == saved.keys() and all(torch.equal(after[key], saved[key]) for key in saved)
    assert all(p.dtype == torch.float32 for p in encoder.parameters())


def test_int8_copy_follows_weight_changes():
    module = torch.nn.Sequential(torch.nn.Linear(4, 4))
    cache = Int8Encoder()
    first = cache.get(module)
    assert cache.get(module) is first
    with torch.no_grad():
        module[0].weight.add_(1.0)
    assert cache.get(module) is not first


def train_ner_steps(tiny_bert, steps=3, **settings):
    """transformer (``settings``) + biobert_ner, ``steps`` seeded updates: the losses and the encoder's weights."""
    fix_random_seed(0)
    nlp = spacy.blank("en")
    model = {**TRANSFORMER, "@architectures": "spacy_biobert.TransformerModel.v2", "name": tiny_bert, **settings}
    nlp.add_pipe("transformer", config={"model": model})
    nlp.add_pipe("biobert_ner", config={"model": {"tok2vec": LISTENER}})
    examples = [Example.from_dict(nlp.make_doc("Lithium caused tremor ."),
                                  {"entities": [(0, 7, "Chemical"), (15, 21, "Disease")]})]
    optimizer = nlp.initialize(lambda: examples)
    losses = [nlp.update(examples, sgd=optimizer)["biobert_ner"] for _ in range(steps)]
    weights = nlp.get_pipe("transformer").model.transformer.state_dict()
    return losses, weights


def test_training_passes_are_unchanged(tiny_bert):
    """Sorted windows and int8 are inference-only: training with them gives the same losses and weights."""
    plain_losses, plain = train_ner_steps(tiny_bert, sort_windows=False, int8_inference=False)
    fast_losses, fast = train_ner_steps(tiny_bert, sort_windows=True, int8_inference=True, chunk_wordpieces=8)
    assert plain_losses[0] > 0 and plain_losses == fast_losses
    assert plain.keys() == fast.keys() and all(torch.equal(plain[key], fast[key]) for key in plain)


def test_per_channel_scales_are_closer_than_per_tensor():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(64, 64))
    with torch.no_grad():
        module[0].weight[0] *= 50  # one row with a far larger range than the rest
    x = torch.randn(32, 64)
    exact = module(x)
    errors = {per_channel: (Int8Encoder(per_channel).get(module)(x) - exact).abs().mean().item()
              for per_channel in (True, False)}
    assert errors[True] < errors[False]


def test_hidden_states_asked_for_take_the_unsorted_path(tiny_bert):
    settings = {"transformer_config": {"output_hidden_states": True}}
    plain = token_vectors(transformer_nlp_v2(tiny_bert, sort_windows=False, **settings), TEXTS)
    sorted_ = token_vectors(transformer_nlp_v2(tiny_bert, chunk_wordpieces=64, **settings), TEXTS)
    for a, b in zip(plain, sorted_):
        numpy.testing.assert_array_equal(a, b)
