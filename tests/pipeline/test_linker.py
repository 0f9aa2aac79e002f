"""Tests of the ``biobert_linker`` component (a small KB written by the tests; the dense fallback with the tiny random
BERT as name encoder)."""
import pytest
import spacy
from spacy.tokens import DocBin, Span
from spacy.training import Example

import spacy_biobert  # noqa: F401
from spacy_biobert.kb import CANDIDATES_ATTR, KnowledgeBase, get_link_candidates
from tests.util import entity_doc, write_text

TSV = "D015738\tFamotidine\t\tChemical\nD003693\tdelirium\tdelirious state\tDisease\n" \
      "D058186\tacute renal failure\tacute kidney injury\tDisease\nD004317\tdoxorubicin\tadriamycin\tChemical\n"
TEXT = "Doxorubicin ( DOX ) and famotidine caused delirium . DOX again ."


@pytest.fixture(scope="module")
def kb_path(tmp_path_factory):
    from spacy_biobert.kb import kb_from_tsv

    folder = tmp_path_factory.mktemp("kb")
    return kb_from_tsv(write_text(folder / "v.tsv", TSV)).to_disk(folder / "kb")


@pytest.fixture
def linker_nlp(kb_path):
    """The linker without its name encoder (``dense_trigger`` 0): dictionary and TF-IDF only."""
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_linker", config={"dense_trigger": 0.0})
    nlp.get_pipe("biobert_linker").initialize(kb_path=kb_path)
    return nlp


@pytest.fixture(scope="module")
def dense_path(tiny_bert, kb_path, tmp_path_factory):
    from spacy_biobert.kb.dense import build_dense_names
    from spacy_biobert.kb.normalize import Normalizer

    dense = build_dense_names(tiny_bert, KnowledgeBase.from_disk(kb_path), Normalizer(plurals=True),
                              [("kidney injury", "Disease", "D058186")], epochs=1, batch_size=2)
    folder = tmp_path_factory.mktemp("dense") / "dense"
    dense.to_disk(folder)
    return folder


@pytest.fixture
def dense_nlp(kb_path, dense_path):
    """The linker with the dense fallback for every non-exact mention (``dense_trigger`` 1)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_linker", config={"dense_trigger": 1.0, "threshold": 0.0})
    nlp.get_pipe("biobert_linker").initialize(kb_path=kb_path, dense_path=dense_path)
    return nlp


def with_ents(nlp, text=TEXT, ents=((0, 1, "Chemical"), (2, 3, "Chemical"), (5, 6, "Chemical"),
                                    (7, 8, "Disease"), (9, 10, "Chemical"))):
    doc = nlp.make_doc(text)
    doc.ents = [Span(doc, s, e, label) for s, e, label in ents]
    return doc


def linked(doc):
    return [(e.text, e.kb_id_) for e in doc.ents]


def test_bare_add_pipe_and_not_initialised_error():
    nlp = spacy.blank("en")
    linker = nlp.add_pipe("biobert_linker")
    assert linker.cfg["threshold"] == nlp.config["components"]["biobert_linker"]["threshold"]
    with pytest.raises(ValueError, match="E109"):
        nlp("Famotidine")


def test_initialize_from_config_kb_path(kb_path, dense_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_linker", config={"dense_trigger": 0.9})
    nlp.config["initialize"]["components"]["biobert_linker"] = {"kb_path": str(kb_path), "dense_path": str(dense_path)}
    nlp.initialize()
    assert len(nlp.get_pipe("biobert_linker").kb) == 4 and len(nlp.get_pipe("biobert_linker").dense) == 7


def test_without_dense_path_the_embedded_encoder_is_used(kb_path):
    nlp = spacy.blank("en")
    linker = nlp.add_pipe("biobert_linker", config={"dense_trigger": 0.9})
    linker.initialize(kb_path=kb_path)
    assert linker.dense.encoder.width == 384 and len(linker.dense) == 7  # every normalised KB name encoded


def test_dense_fallback_links_below_the_trigger_and_only_with_fuzzy(dense_nlp, kb_path):
    linker = dense_nlp.get_pipe("biobert_linker")
    doc = dense_nlp(with_ents(dense_nlp, "kidney injury and delirium .", ((0, 2, "Disease"), (3, 4, "Disease"))))
    store = get_link_candidates(doc)
    assert store[(18, 26)][0] == ("D003693", 1.0)  # exact match: no encoder
    assert store[(0, 13)] and all(-1.0 <= score <= 1.0 for _, score in store[(0, 13)])
    with linker.temporarily(dense_trigger=0.0):
        tfidf = get_link_candidates(dense_nlp(with_ents(dense_nlp, "kidney injury", ((0, 2, "Disease"),))))
    assert tfidf[(0, 13)] != store[(0, 13)]  # below trigger 1 the encoder's candidates replace TF-IDF's
    exact_only = spacy.blank("en").add_pipe("biobert_linker", config={"fuzzy": False})
    exact_only.set_kb(KnowledgeBase.from_disk(kb_path))
    assert exact_only.matcher.dense is None and exact_only.dense is None  # no fuzzy step: no encoder loaded


def test_initialize_from_gold_entities(nlp):
    gold = entity_doc(nlp)
    linker = nlp.add_pipe("biobert_linker")
    nlp.initialize(lambda: [Example(nlp.make_doc(gold.text), gold)])
    assert set(linker.kb.get("D058186|D007674").names) == {"acute renal failure"}
    with pytest.raises(ValueError, match="empty knowledge base"):
        linker.initialize(lambda: [])


def test_links_with_abbreviations_fuzzy_and_candidates(linker_nlp):
    doc = linker_nlp(with_ents(linker_nlp))
    assert linked(doc) == [("Doxorubicin", "D004317"), ("DOX", "D004317"), ("famotidine", "D015738"),
                           ("delirium", "D003693"), ("DOX", "D004317")]
    store = doc._.get(CANDIDATES_ATTR)
    assert store[(0, 11)][0] == ("D004317", 1.0) and len(store) == 5


def test_below_threshold_kb_id_is_empty_but_candidates_kept(linker_nlp):
    doc = linker_nlp(with_ents(linker_nlp, "Famotidinum was given .", ((0, 1, "Chemical"),)))
    (ent,) = doc.ents
    (cid, score), *_ = get_link_candidates(doc)[(0, 11)]
    assert cid == "D015738" and 0 < score
    assert ent.kb_id_ == ("D015738" if score >= linker_nlp.get_pipe("biobert_linker").cfg["threshold"] else "")
    linker_nlp.get_pipe("biobert_linker").cfg["threshold"] = 1.01
    assert linker_nlp(with_ents(linker_nlp, "famotidine", ((0, 1, "Chemical"),))).ents[0].kb_id_ == ""


def test_empty_doc_and_doc_without_entities(linker_nlp):
    assert len(linker_nlp("")) == 0
    doc = linker_nlp("No entities here .")
    assert doc.ents == () and get_link_candidates(doc) == {}


def test_label_the_kb_lacks_and_odd_mentions(linker_nlp):
    long_text = "ü-" * 600 + " delirium"
    doc = linker_nlp(with_ents(linker_nlp, "Famotidine αβγ ÜBER " + long_text, ((0, 1, "Gene"), (1, 2, "Chemical"),
                                                                                  (2, 3, "Disease"), (3, 5, "Disease"))))
    assert doc.ents[0].kb_id_ == "D015738"  # a label the KB does not know restricts nothing
    assert len(get_link_candidates(doc)) == 4


def test_keeps_labels_and_missing_annotation(linker_nlp):
    doc = linker_nlp.make_doc(TEXT)
    doc.set_ents([Span(doc, 0, 1, "Chemical")], default="missing")
    doc = linker_nlp(doc)
    assert [(e.label_, e.kb_id_) for e in doc.ents] == [("Chemical", "D004317")]
    assert doc[3].ent_iob_ == ""  # still unknown, not set to O


@pytest.mark.parametrize("dense", [False, True])
def test_to_disk_and_spacy_load_identical_ids(linker_nlp, dense_nlp, dense, tmp_path):
    nlp = dense_nlp if dense else linker_nlp
    doc = with_ents(nlp, "Famotidinum and kidney injuries .", ((0, 1, "Chemical"), (2, 4, "Disease")))
    before = get_link_candidates(nlp(doc.copy()))
    nlp.to_disk(tmp_path / "pipeline")
    assert (tmp_path / "pipeline" / "biobert_linker" / "kb" / "kb.msgpack").exists()
    assert (tmp_path / "pipeline" / "biobert_linker" / "dense" / "encoder" / "config.json").exists() == dense
    loaded = spacy.load(tmp_path / "pipeline")
    from_bytes = spacy.blank("en")
    from_bytes.add_pipe("biobert_linker", config={"dense_trigger": nlp.get_pipe("biobert_linker").dense_trigger})
    from_bytes.from_bytes(nlp.to_bytes())
    for restored in (loaded, from_bytes):
        after = get_link_candidates(restored(doc.copy()))
        assert {span: [cid for cid, _ in found] for span, found in after.items()} == \
            {span: [cid for cid, _ in found] for span, found in before.items()}
        assert [s for found in after.values() for _, s in found] == \
            pytest.approx([s for found in before.values() for _, s in found], abs=1e-2)  # vectors kept as float16


def test_pipe_equals_call_and_n_process(linker_nlp):
    docs = [with_ents(linker_nlp) for _ in range(4)]
    single = [linked(linker_nlp(d)) for d in [with_ents(linker_nlp) for _ in range(4)]]
    assert [linked(d) for d in linker_nlp.pipe(docs, batch_size=2)] == single
    multi = list(linker_nlp.pipe([with_ents(linker_nlp) for _ in range(4)], n_process=2, batch_size=2))
    assert [linked(d) for d in multi] == single
    assert get_link_candidates(multi[0]) == get_link_candidates(linker_nlp(with_ents(linker_nlp)))


def test_dense_pipe_encodes_a_batch_at_once_and_equals_call(dense_nlp, monkeypatch):
    texts = [("kidney injury and delirium .", ((0, 2, "Disease"), (3, 4, "Disease"))),
             ("renal injury .", ((0, 2, "Disease"),)), ("kidney injury .", ((0, 2, "Disease"),))]
    single = [get_link_candidates(dense_nlp(with_ents(dense_nlp, t, e))) for t, e in texts]
    linker = dense_nlp.get_pipe("biobert_linker")
    linker.dense._cache.clear()
    calls = []
    encode = linker.dense.encoder.encode
    monkeypatch.setattr(linker.dense.encoder, "encode", lambda keys: calls.append(list(keys)) or encode(keys))
    piped = [get_link_candidates(d) for d in dense_nlp.pipe([with_ents(dense_nlp, t, e) for t, e in texts],
                                                            batch_size=3)]
    assert calls == [["kidney injury", "renal injury"]]  # the batch's non-exact mentions, once each, in one call
    assert [{k: [(c, round(s, 4)) for c, s in v] for k, v in d.items()} for d in piped] == \
        [{k: [(c, round(s, 4)) for c, s in v] for k, v in d.items()} for d in single]


def test_docbin_round_trip(linker_nlp):
    doc = linker_nlp(with_ents(linker_nlp))
    (restored,) = DocBin(docs=[doc], store_user_data=True).get_docs(linker_nlp.vocab)
    assert linked(restored) == linked(doc) and get_link_candidates(restored) == get_link_candidates(doc)


def test_kb_instance_can_be_set(linker_nlp):
    kb = KnowledgeBase()
    kb.add("X1", ["famotidine"], label="Chemical")
    linker_nlp.get_pipe("biobert_linker").set_kb(kb)
    assert linker_nlp(with_ents(linker_nlp, "famotidine", ((0, 1, "Chemical"),))).ents[0].kb_id_ == "X1"


def test_composite_mention_yields_every_id_it_names():
    from spacy_biobert.concepts import concept_ids
    from spacy_biobert.kb.annotated import add_annotations

    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_linker").set_kb(add_annotations(KnowledgeBase(), [
        ("renal and hepatic injury", "Disease", "D007674|D056486"), ("renal injury", "Disease", "D007674")]))
    doc = nlp(with_ents(nlp, "Renal and hepatic injury and renal injury .", ((0, 4, "Disease"), (5, 7, "Disease"))))
    assert linked(doc) == [("Renal and hepatic injury", "D007674|D056486"), ("renal injury", "D007674")]
    assert concept_ids(doc.ents[0]) == ("D007674", "D056486")
