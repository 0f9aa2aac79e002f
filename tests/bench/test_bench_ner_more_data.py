"""bench/bench_ner_more_data.py: dev is cut into two disjoint halves (one trained on, one scored on) and the
section reports both models on the held-out half."""
import spacy
from spacy.tokens import DocBin

from tests.util import import_bench_script


def test_the_halves_cover_dev_once_and_the_training_folder_holds_train_and_the_first_only(monkeypatch, tmp_path):
    bench = import_bench_script(monkeypatch, "bench_ner_more_data", "bench_ner", "common")
    nlp = spacy.blank("en")
    docs = [nlp(f"doc {i}") for i in range(5)]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    DocBin(docs=docs).to_disk(corpus / "dev.spacy")
    DocBin(docs=docs[:2]).to_disk(corpus / "train.spacy")
    (tmp_path / "work" / "train_dev_a").mkdir(parents=True)
    DocBin(docs=[nlp("a stale split")]).to_disk(tmp_path / "work" / "train_dev_a" / "stale.spacy")
    train, dev_b = bench.write_split(corpus, tmp_path / "work", tmp_path / "log.txt")
    read = lambda path: [doc.text for doc in DocBin().from_disk(path).get_docs(nlp.vocab)]  # noqa: E731
    assert sorted(p.name for p in train.iterdir()) == ["dev_a.spacy", "train.spacy"]
    assert read(train / "dev_a.spacy") == ["doc 0", "doc 1", "doc 2"] and read(dev_b) == ["doc 3", "doc 4"]
    assert read(train / "train.spacy") == ["doc 0", "doc 1"]


def test_the_section_reports_both_models_on_the_held_out_half(monkeypatch):
    bench = import_bench_script(monkeypatch, "bench_ner_more_data", "bench_ner", "common")
    scores = lambda f: {"docs": 250, "ents_p": f, "ents_r": f, "ents_f": f}  # noqa: E731
    text = bench.section({"date": "d", "machine": {"nproc": 2, "cpu": "cpu"}, "threads": 2, "command": "c",
                          "config": "configs/ner.cfg", "max_steps": 500,
                          "dev_b": {"train": scores(0.8), "train + dev A": scores(0.81)},
                          "test": {"train": scores(0.7), "train + dev A": scores(0.72)}})
    assert "| train + dev A | 81.00 / 81.00 / **81.00** | 72.00 / 72.00 / **72.00** |" in text
    assert "other 250 dev documents" in text and "+1.00" in text
