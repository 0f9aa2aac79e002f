"""The shipped training configs train end to end on a tiny corpus and a tiny BERT."""
from pathlib import Path

import spacy
from spacy.cli.train import train
from spacy.tokens import DocBin

import spacy_biobert  # noqa: F401
from spacy_biobert.pipeline.ner import NER_SPANS_KEY

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
NER_TEXTS = [
    ("Famotidine-induced delirium in rats .", [(0, 10, "Chemical"), (19, 27, "Disease")]),
    ("Patients with cocaine were treated for acute renal failure .", [(14, 21, "Chemical"), (39, 58, "Disease")]),
]


def write_ner_docbin(path: Path) -> Path:
    """A DocBin of the NER_TEXTS, tokenized with the configs' tokenizer."""
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "spacy_biobert.Tokenizer.v1"}}})
    docs = []
    for text, ents in NER_TEXTS:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(start, end, label) for start, end, label in ents]
        docs.append(doc)
    DocBin(docs=docs, store_user_data=True).to_disk(path)
    return path


def test_ner_config_trains(tiny_bert, tmp_path):
    data = write_ner_docbin(tmp_path / "tiny.spacy")
    overrides = {
        "paths.train": str(data),
        "paths.dev": str(data),
        "components.transformer.model.name": tiny_bert,
        "training.max_steps": 3,
        "training.eval_frequency": 2,
        "training.optimizer.learn_rate.warmup_steps": 1,
    }
    train(CONFIGS / "ner.cfg", tmp_path / "out", overrides=overrides)
    nlp = spacy.load(tmp_path / "out" / "model-best")
    assert nlp.pipe_names == ["transformer", "biobert_ner"]
    assert nlp.get_pipe("biobert_ner").labels == ("Chemical", "Disease")
    doc = nlp("Famotidine-induced delirium in rats .")
    assert [t.text for t in doc][:3] == ["Famotidine", "-", "induced"]  # the biomedical tokenizer
    assert all(t.ent_iob_ in ("B", "I", "O") for t in doc)
    assert len(doc.spans[NER_SPANS_KEY]) == len(doc.ents)
    assert "ents_per_type" in nlp.meta["performance"]
