"""bench/bench_kb_sources.py: the gold mentions lose their ids before linking, mention accuracy compares ids, and
the section shows each KB (a run without a pipeline has no predicted columns)."""
import spacy
from spacy.training import Example

from tests.util import import_bench_script


def bench_module(monkeypatch):
    return import_bench_script(monkeypatch, "bench_kb_sources", "bench_e2e", "bench_linker", "rel_baselines",
                               "common")


def test_gold_entities_keep_spans_and_labels_and_lose_ids(monkeypatch):
    bench = bench_module(monkeypatch)
    nlp = spacy.blank("en")
    ref = nlp("Lithium tremor")
    ref.ents = [ref.char_span(0, 7, "Chemical", kb_id="D008094"), ref.char_span(8, 14, "Disease", kb_id="D014202")]
    (eg,) = bench.gold_entities([Example(nlp("Lithium tremor"), ref)])
    assert [(e.text, e.label_, e.kb_id_) for e in eg.predicted.ents] == [("Lithium", "Chemical", ""),
                                                                         ("tremor", "Disease", "")]
    eg.predicted.ents = [eg.predicted.char_span(0, 7, "Chemical", kb_id="D008094"),
                         eg.predicted.char_span(8, 14, "Disease", kb_id="D000001")]
    assert bench.mention_accuracy([eg]) == 0.5


def test_the_section_shows_each_kb(monkeypatch):
    bench = bench_module(monkeypatch)
    gold = {name: {"linking_f": 0.9, "mention_accuracy": 0.8} for name in bench.VARIANTS}
    results = {"date": "d", "machine": {"nproc": 2, "cpu": "cpu"}, "threads": 2, "command": "c", "docs": 250,
               "first_doc": 250, "kb_corpus": ["corpus/train.spacy"], "linker_threshold": 0.9, "gold": gold}
    text = bench.section({**results, "pipeline": None, "predicted": None})
    assert "| corpus mentions + MeSH with entry terms | – | – | 90.00 | 80.00 |" in text
    predicted = {name: {"linking_f": 0.85, "reach": 0.7, "concepts": 10} for name in bench.VARIANTS}
    text = bench.section({**results, "pipeline": "p", "predicted": predicted})
    assert "| corpus mentions + MeSH-lite | 85.00 | 70.00 | 90.00 | 80.00 |" in text and "threshold 0.9" in text
