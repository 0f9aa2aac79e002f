"""Tests of the ``biobert_linker`` component (no model: a small KB written by the tests)."""
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
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_linker")
    nlp.get_pipe("biobert_linker").initialize(kb_path=kb_path)
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


def test_initialize_from_config_kb_path(kb_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_linker")
    nlp.config["initialize"]["components"]["biobert_linker"] = {"kb_path": str(kb_path)}
    nlp.initialize()
    assert len(nlp.get_pipe("biobert_linker").kb) == 4


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


def test_to_disk_and_spacy_load_identical_ids(linker_nlp, tmp_path):
    before = linked(linker_nlp(with_ents(linker_nlp)))
    linker_nlp.to_disk(tmp_path / "pipeline")
    assert (tmp_path / "pipeline" / "biobert_linker" / "kb" / "kb.msgpack").exists()
    loaded = spacy.load(tmp_path / "pipeline")
    assert linked(loaded(with_ents(loaded))) == before
    from_bytes = spacy.blank("en")
    from_bytes.add_pipe("biobert_linker")
    from_bytes.from_bytes(linker_nlp.to_bytes())
    assert linked(from_bytes(with_ents(from_bytes))) == before


def test_pipe_equals_call_and_n_process(linker_nlp):
    docs = [with_ents(linker_nlp) for _ in range(4)]
    single = [linked(linker_nlp(d)) for d in [with_ents(linker_nlp) for _ in range(4)]]
    assert [linked(d) for d in linker_nlp.pipe(docs, batch_size=2)] == single
    multi = list(linker_nlp.pipe([with_ents(linker_nlp) for _ in range(4)], n_process=2, batch_size=2))
    assert [linked(d) for d in multi] == single
    assert get_link_candidates(multi[0]) == get_link_candidates(linker_nlp(with_ents(linker_nlp)))


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
