"""configs/rel.cfg and configs/joint.cfg load and train a few steps on a tiny DocBin with a tiny BERT."""
from pathlib import Path

import pytest
import spacy
import torch
from spacy.cli.train import train
from spacy.tokens import DocBin

import spacy_biobert  # noqa: F401
from spacy_biobert.corpus import MENTIONS_KEY
from spacy_biobert.relations import get_concept_relations, set_concept_relations

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
# (text, [(start, end, label, MeSH id)], CID pairs)
DOCS = [
    ("Famotidine-induced delirium in rats . Cocaine was also given .",
     [(0, 10, "Chemical", "D015738"), (19, 27, "Disease", "D003693"), (38, 45, "Chemical", "D003042")],
     [("D015738", "D003693")]),
    ("Patients with cocaine were treated . They had acute renal failure .",
     [(14, 21, "Chemical", "D003042"), (46, 65, "Disease", "D058186")],
     [("D003042", "D058186")]),
]


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_docbin(tmp_path_factory) -> Path:
    """The DOCS as converted corpora look: ents with kb ids, the mention span group, CID relations."""
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "spacy_biobert.Tokenizer.v1"}}})
    docs = []
    for text, ents, cids in DOCS:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(s, e, label, kb_id=kb) for s, e, label, kb in ents]
        doc.spans[MENTIONS_KEY] = list(doc.ents)
        set_concept_relations(doc, [(h, t, "CID") for h, t in cids])
        docs.append(doc)
    path = tmp_path_factory.mktemp("data") / "tiny.spacy"
    DocBin(docs=docs, store_user_data=True).to_disk(path)
    return path


def train_config(name: str, data: Path, tiny_bert: str, output: Path) -> spacy.Language:
    overrides = {
        "paths.train": str(data),
        "paths.dev": str(data),
        "components.transformer.model.name": tiny_bert,
        "training.max_steps": 3,
        "training.eval_frequency": 2,
        "training.optimizer.learn_rate.warmup_steps": 1,
    }
    train(CONFIGS / name, output, overrides=overrides)
    return spacy.load(output / "model-best")


def test_rel_config_trains_on_gold_entities(tiny_docbin, tiny_bert, tmp_path):
    nlp = train_config("rel.cfg", tiny_docbin, tiny_bert, tmp_path)
    assert nlp.pipe_names == ["sentencizer", "transformer", "biobert_rel"]
    rel = nlp.get_pipe("biobert_rel")
    assert rel.labels == ("CID",) and rel.type_pairs == {("Chemical", "Disease")}
    assert nlp.get_pipe("transformer").listening_components == ["biobert_rel"]
    assert nlp.meta["performance"]["rel_concept_f"] is not None  # scored with the gold entities of the reader
    doc = nlp.make_doc("Cocaine caused acute renal failure .")
    doc.ents = [doc.char_span(0, 7, "Chemical", kb_id="D003042"), doc.char_span(15, 34, "Disease", kb_id="D058186")]
    rel.cfg["threshold"] = 0.0
    assert list(get_concept_relations(nlp(doc))) == [("D003042", "D058186", "CID")]


def test_joint_config_shares_one_transformer(tiny_docbin, tiny_bert, tmp_path):
    nlp = train_config("joint.cfg", tiny_docbin, tiny_bert, tmp_path)
    assert nlp.pipe_names == ["sentencizer", "transformer", "biobert_ner", "biobert_rel"]
    assert sorted(nlp.get_pipe("transformer").listening_components) == ["biobert_ner", "biobert_rel"]
    assert nlp.get_pipe("biobert_ner").labels == ("Chemical", "Disease")
    assert nlp.get_pipe("biobert_rel").labels == ("CID",)
    assert {"ents_f", "rel_concept_f"} <= set(nlp.meta["performance"])
    doc = nlp("Cocaine caused acute renal failure .")
    assert isinstance(get_concept_relations(doc), dict)
    assert [t.text for t in nlp.make_doc("Famotidine-induced")] == ["Famotidine", "-", "induced"]
