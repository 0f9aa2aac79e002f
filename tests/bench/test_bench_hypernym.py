"""bench/bench_hypernym.py: a (chemical, disease) pair is dropped when the chemical has a more specific disease (a
MeSH tree descendant) among the kept pairs or the linked diseases, and only then."""
import spacy
from spacy.training import Example

from spacy_biobert.relations import get_concept_relations, set_concept_relations
from tests.util import import_bench_script

TREES = {"D1": ["C10"], "D2": ["C10.597"], "D3": ["C11"], "D4": ["C10.5"]}


def bench_module(monkeypatch):
    return import_bench_script(monkeypatch, "bench_hypernym", "bench_e2e", "bench_linker", "rel_baselines", "common")


def test_ancestry_is_a_tree_number_prefix_at_a_dot(monkeypatch):
    bench = bench_module(monkeypatch)
    assert bench.is_ancestor("D1", "D2", TREES) and not bench.is_ancestor("D2", "D1", TREES)
    assert not bench.is_ancestor("D4", "D2", TREES)  # C10.5 is no ancestor of C10.597
    assert not bench.is_ancestor("D1", "D1", TREES) and not bench.is_ancestor("D1", "D9", TREES)


def test_each_scope_drops_the_general_pair_only_when_a_specific_one_is_there(monkeypatch):
    bench = bench_module(monkeypatch)
    nlp = spacy.blank("en")
    doc = nlp("Cisplatin caused it.")
    doc.ents = [doc.char_span(0, 9, "Chemical", kb_id="C"), doc.char_span(17, 19, "Disease", kb_id="D2")]
    set_concept_relations(doc, {("C", "D1", "CID"): 0.9, ("C", "D2", "CID"): 0.4, ("C", "D3", "CID"): 0.8})
    egs = [Example(doc, doc.copy())]
    kept = lambda scope, t: set(get_concept_relations(bench.filtered(egs, t, TREES, scope)[0].predicted))  # noqa
    assert kept("none", 0.5) == {("C", "D1", "CID"), ("C", "D3", "CID")}
    assert kept("kept pairs", 0.5) == {("C", "D1", "CID"), ("C", "D3", "CID")}  # D2 is below the threshold
    assert kept("kept pairs", 0.3) == {("C", "D2", "CID"), ("C", "D3", "CID")}
    assert kept("linked diseases", 0.5) == {("C", "D3", "CID")}  # D2 is linked in the text
    assert get_concept_relations(egs[0].predicted)[("C", "D1", "CID")] == 0.9  # the input is left as it was


def test_the_section_shows_each_scope(monkeypatch):
    bench = bench_module(monkeypatch)
    prf = {"p": 0.5, "r": 0.4, "f": 0.444, "threshold": 0.9}
    text = bench.section({"date": "d", "machine": {"nproc": 2, "cpu": "cpu"}, "threads": 2, "command": "c",
                          "pipeline": "p", "corpus": "dev_b.spacy", "docs": 250, "first_doc": 250, "threshold": 0.9, "title_bonus": 0.5,
                          "scopes": {s: {"at_threshold": prf, "best": prf} for s in bench.SCOPES}})
    assert "| linked diseases | 50.00 / 40.00 / **44.40** | 50.00 / 40.00 / **44.40** (t=0.9) |" in text
    assert "(`dev_b.spacy` from document 250 on), end to end" in text
