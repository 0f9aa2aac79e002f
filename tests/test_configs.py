"""The shipped training configs (configs/*.cfg) load and train a few steps on a tiny DocBin with a tiny BERT."""
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy
import pytest
import spacy
import torch
from spacy.cli import app as spacy_app
from spacy.cli.train import train
from spacy.tokens import Doc
from typer.testing import CliRunner

from spacy_biobert.models.encoder_call import EncoderShim
from spacy_biobert.models.replace_listener import OWN_ENCODER_ARCHITECTURE
from spacy_biobert.pipeline.inference import inference_overrides
from spacy_biobert.pipeline.ner import NER_SPANS_KEY
from spacy_biobert.relations import get_concept_relations
from tests.util import CONFIGS, NER_TRAIN, biomedical_nlp, invoke, set_gold, write_docbin

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# (text, [(start, end, label, MeSH id)], CID pairs)
DOCS = [
    ("Famotidine-induced delirium in rats . Cocaine was also given .",
     [(0, 10, "Chemical", "D015738"), (19, 27, "Disease", "D003693"), (38, 45, "Chemical", "D003042")],
     [("D015738", "D003693")]),
    ("Patients with cocaine were treated . They had acute renal failure .",
     [(14, 21, "Chemical", "D003042"), (46, 65, "Disease", "D058186")],
     [("D003042", "D058186")]),
]
#: config file name -> the test that trains it (filled by @trains)
TRAINING_TESTS: Dict[str, str] = {}


def trains(config: str) -> Callable:
    """Record that the decorated test trains ``configs/<config>``."""
    def record(test: Callable) -> Callable:
        TRAINING_TESTS[config] = test.__name__
        return test
    return record


@pytest.fixture(scope="module")
def tiny_docbin(tmp_path_factory) -> Path:
    """The DOCS as converted corpora look: ents with kb ids, the mention span group, CID relations."""
    nlp = biomedical_nlp()
    docs = []
    for text, ents, cids in DOCS:
        doc = nlp.make_doc(text)
        spans = [doc.char_span(s, e, label, kb_id=kb) for s, e, label, kb in ents]
        docs.append(set_gold(doc, spans, [(h, t, "CID") for h, t in cids]))
    return write_docbin(tmp_path_factory.mktemp("data") / "tiny.spacy", docs)


def train_config(name: str, data: Path, tiny_bert: Optional[str], output: Path, **paths: Path) -> spacy.Language:
    """Train ``configs/<name>`` 3 steps on ``data`` (encoder: ``tiny_bert``; None for a sourced transformer)."""
    overrides = {
        "paths.train": str(data),
        "paths.dev": str(data),
        "training.max_steps": 3,
        "training.eval_frequency": 2,
        "training.optimizer.learn_rate.warmup_steps": 1,
        **{f"paths.{key}": str(value) for key, value in paths.items()},
    }
    if tiny_bert is not None:
        overrides["components.transformer.model.name"] = tiny_bert
    train(CONFIGS / name, output, overrides=overrides)
    return spacy.load(output / "model-best")


@trains("ner.cfg")
def test_ner_config_trains_with_lexical_features(tiny_docbin, tiny_bert, tmp_path):
    nlp = train_config("ner.cfg", tiny_docbin, tiny_bert, tmp_path)
    assert nlp.pipe_names == ["transformer", "biobert_ner"]
    ner = nlp.get_pipe("biobert_ner")
    assert ner.labels == ("Chemical", "Disease")
    assert nlp.config["components"]["biobert_ner"]["model"]["@architectures"] == "spacy_biobert.NERTagger.v2"
    assert ner.model.get_ref("features").get_dim("nO") == 64
    assert ner.model.get_ref("output_layer").get_dim("nI") == 32 + 64  # the tiny BERT's width + the features'
    doc = nlp("Famotidine-induced delirium in rats .")
    assert [t.text for t in doc][:3] == ["Famotidine", "-", "induced"]  # the biomedical tokenizer
    assert all(t.ent_iob_ in ("B", "I", "O") for t in doc)
    assert len(doc.spans[NER_SPANS_KEY]) == len(doc.ents)
    assert "ents_per_type" in nlp.meta["performance"]
    docs = list(nlp.pipe(["", "Famotidine-induced delirium in rats .", " "]))
    assert [len(doc.spans[NER_SPANS_KEY]) for doc in docs] == [len(doc.ents) for doc in docs]


def test_ner_config_without_features_is_the_transformer_only_head(tiny_docbin, tiny_bert, tmp_path):
    """``--components.biobert_ner.model.features null`` (the ablation's baseline) trains the head on the transformer's vectors only."""
    overrides = {"paths.train": str(tiny_docbin), "paths.dev": str(tiny_docbin), "training.max_steps": 2,
                 "training.eval_frequency": 1, "components.transformer.model.name": tiny_bert,
                 "components.biobert_ner.model.features": None}
    train(CONFIGS / "ner.cfg", tmp_path, overrides=overrides)
    ner = spacy.load(tmp_path / "model-best").get_pipe("biobert_ner")
    assert not ner.model.has_ref("features")
    assert ner.model.get_ref("output_layer").get_dim("nI") == 32


@trains("rel.cfg")
def test_rel_config_trains_on_gold_entities(tiny_docbin, tiny_bert, tmp_path):
    nlp = train_config("rel.cfg", tiny_docbin, tiny_bert, tmp_path)
    assert nlp.pipe_names == ["sentencizer", "transformer", "biobert_rel"]
    rel = nlp.get_pipe("biobert_rel")
    assert rel.labels == ("CID",) and rel.type_pairs == {("Chemical", "Disease")}
    assert nlp.get_pipe("transformer").listening_components == ["biobert_rel"]
    assert nlp.meta["performance"]["rel_concept_f"] is not None  # scored with the gold entities of the reader
    doc = nlp.make_doc("Cocaine caused acute renal failure .")
    doc.ents = [doc.char_span(0, 7, "Chemical", kb_id="D003042"), doc.char_span(15, 34, "Disease", kb_id="D058186")]
    rel.threshold = 0.0
    assert list(get_concept_relations(nlp(doc))) == [("D003042", "D058186", "CID")]


@trains("joint.cfg")
def test_joint_config_shares_one_transformer(tiny_docbin, tiny_bert, tmp_path):
    nlp = train_config("joint.cfg", tiny_docbin, tiny_bert, tmp_path)
    assert nlp.pipe_names == ["sentencizer", "transformer", "biobert_ner", "biobert_linker", "biobert_rel"]
    assert sorted(nlp.get_pipe("transformer").listening_components) == ["biobert_ner", "biobert_rel"]
    assert nlp.get_pipe("biobert_ner").labels == ("Chemical", "Disease")
    assert nlp.get_pipe("biobert_rel").labels == ("CID",)
    assert {"ents_f", "rel_concept_f"} <= set(nlp.meta["performance"])
    doc = nlp.make_doc("Cocaine caused acute renal failure .")
    doc.ents = [doc.char_span(0, 7, "Chemical", kb_id="D003042"), doc.char_span(15, 34, "Disease", kb_id="D058186")]
    rel = nlp.get_pipe("biobert_rel")
    rel.threshold = 0.0
    doc = rel(nlp.get_pipe("transformer")(doc))  # the relation head reads the shared transformer's vectors
    assert list(get_concept_relations(doc)) == [("D003042", "D058186", "CID")]
    assert [t.text for t in nlp.make_doc("Famotidine-induced")] == ["Famotidine", "-", "induced"]


def flat(config: dict, prefix: str = "") -> Dict[str, object]:
    """``config`` as dotted keys -> leaf values."""
    items = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            items.update(flat(value, f"{prefix}{key}."))
        else:
            items[f"{prefix}{key}"] = value
    return items


@pytest.mark.parametrize("factory, config", [("biobert_ner", "ner.cfg"), ("biobert_rel", "rel.cfg"),
                                             ("biobert_linker", "e2e.cfg"), ("biobert_rel_cues", "e2e.cfg")])
def test_factory_defaults_are_the_shipped_components(factory, config):
    """A bare ``nlp.add_pipe(factory)`` builds the component the shipped config does (the shipped pipeline: e2e.cfg
    of ner.cfg's NER and rel.cfg's relation head), but for its encoder: a listener of a shared transformer there,
    an inline transformer by default."""
    nlp = spacy.blank("en")
    nlp.add_pipe(factory)
    default = flat(nlp.get_pipe_config(factory))
    shipped = flat(spacy.util.load_config(CONFIGS / config)["components"][factory])
    shipped = {key: value for key, value in shipped.items() if not key.startswith("model.tok2vec.")}
    assert shipped and {key: default.get(key, "(missing)") for key in shipped} == shipped


def test_every_shipped_config_has_a_training_test():
    shipped = sorted(path.name for path in CONFIGS.glob("*.cfg"))
    assert shipped, f"no configs found in {CONFIGS}"
    untested = [name for name in shipped if name not in TRAINING_TESTS]
    assert not untested, f"configs without a training test in {__file__}: {untested}"
    assert all(name in globals() for name in TRAINING_TESTS.values())


@trains("quick.cfg")
def test_quick_config_keeps_relation_gradient_out_of_the_transformer(tiny_docbin, tiny_bert, tmp_path):
    nlp = train_config("quick.cfg", tiny_docbin, tiny_bert, tmp_path)
    assert nlp.pipe_names == ["sentencizer", "transformer", "biobert_ner", "biobert_linker", "biobert_rel",
                              "biobert_rel_cues"]
    assert sorted(nlp.get_pipe("transformer").listening_components) == ["biobert_ner", "biobert_rel"]
    assert nlp.config["components"]["biobert_rel"]["model"]["tok2vec"]["grad_factor"] == 0.0
    assert nlp.config["corpora"]["train"]["@readers"] == "spacy_biobert.GoldEntsCorpus.v1"
    assert nlp.config["training"]["annotating_components"] == []
    rel = nlp.get_pipe("biobert_rel")
    assert rel.labels == ("CID",) and rel.type_pairs == {("Chemical", "Disease")}
    assert {"ents_f", "rel_concept_f", "rel_concept_oracle_f", "linker_doc_f"} <= set(nlp.meta["performance"])
    doc = nlp.make_doc("Cocaine caused acute renal failure .")
    doc.ents = [doc.char_span(0, 7, "Chemical"), doc.char_span(15, 34, "Disease")]
    doc = nlp.get_pipe("biobert_linker")(doc)  # its KB: the training data's gold mentions
    assert [e.kb_id_ for e in doc.ents] == ["D003042", "D058186"]
    ((infos, probs),) = rel.predict([nlp.get_pipe("transformer")(doc)])
    assert [(i.head_ids, i.tail_ids) for i in infos] == [(("D003042",), ("D058186",))] and probs.shape == (1, 1)


# --- end to end from a trained NER pipeline (the session fixture saved_ner_model) ------------------------------

E2E_TEXTS = [text for text, _ in NER_TRAIN] + [text for text, _, _ in DOCS]
E2E_PIPELINE = ["sentencizer", "transformer", "biobert_ner", "biobert_linker", "biobert_rel"]


def ner_predictions(nlp: spacy.Language) -> List[Tuple[list, list]]:
    """Entities and NER scores of ``E2E_TEXTS``, tokenized by the biomedical tokenizer for every pipeline."""
    tokenizer, found = biomedical_nlp(), []
    for tokens in tokenizer.pipe(E2E_TEXTS):
        doc = Doc(nlp.vocab, words=[t.text for t in tokens], spaces=[bool(t.whitespace_) for t in tokens])
        with nlp.select_pipes(enable=["transformer", "biobert_ner"]):
            doc = nlp(doc)
        found.append(([(e.start, e.end, e.label_) for e in doc.ents], list(doc.spans[NER_SPANS_KEY].attrs["scores"])))
    return found


def same_weights(nlp: spacy.Language, source: spacy.Language) -> bool:
    """Whether the transformer and biobert_ner of ``nlp`` have exactly the weights of those of ``source``."""
    ours, theirs = (n.get_pipe("transformer").model.transformer.state_dict() for n in (nlp, source))
    if ours.keys() != theirs.keys() or not all(torch.equal(ours[k], theirs[k]) for k in ours):
        return False
    params = [[node.get_param(name) for node in n.get_pipe("biobert_ner").model.walk()
               for name in node.param_names if node.has_param(name)] for n in (nlp, source)]
    return len(params[0]) == len(params[1]) and all(numpy.array_equal(a, b) for a, b in zip(*params))


def gold_entity_scores(nlp: spacy.Language) -> List[dict]:
    """The relation head's score of every candidate concept pair of ``DOCS`` given their gold entities."""
    docs = []
    for text, ents, _ in DOCS:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(s, e, label, kb_id=kb) for s, e, label, kb in ents]
        docs.append(doc)
    skip = [name for name in ("biobert_ner", "biobert_linker", "biobert_rel_cues") if name in nlp.pipe_names]
    with nlp.select_pipes(disable=skip), nlp.get_pipe("biobert_rel").temporarily(threshold=0.0):
        return [dict(doc._.biobert_concept_relations) for doc in nlp.pipe(docs)]


def end_to_end(nlp: spacy.Language, text: str) -> Tuple[list, dict]:
    """(entity, label, linked id) and concept relations (threshold 0) of ``text`` run through the whole pipeline."""
    with nlp.get_pipe("biobert_rel").temporarily(threshold=0.0):
        doc = nlp(text)
    return [(e.text, e.label_, e.kb_id_) for e in doc.ents], dict(get_concept_relations(doc))


@trains("e2e_frozen.cfg")
def test_e2e_frozen_config_trains_relations_on_the_sourced_frozen_ner(tiny_docbin, saved_ner_model, tmp_path):
    nlp = train_config("e2e_frozen.cfg", tiny_docbin, None, tmp_path, ner_model=saved_ner_model)
    source = spacy.load(saved_ner_model)
    assert nlp.pipe_names == E2E_PIPELINE
    assert sorted(nlp.get_pipe("transformer").listening_components) == ["biobert_ner", "biobert_rel"]
    assert nlp.config["training"]["frozen_components"] == ["transformer", "biobert_ner"]
    assert {"transformer", "biobert_ner"} <= set(nlp.config["training"]["annotating_components"])
    assert nlp.config["corpora"]["train"]["@readers"] == "spacy.Corpus.v1"  # relations on predicted entities
    assert same_weights(nlp, source)
    assert ner_predictions(nlp) == ner_predictions(source)  # bit-identical NER
    assert nlp.get_pipe("biobert_rel").labels == ("CID",)
    assert {"ents_f", "rel_concept_f", "linker_doc_f"} <= set(nlp.meta["performance"])
    ents, relations = end_to_end(nlp, "Famotidine induced delirium in rats .")
    assert ents == [("Famotidine", "Chemical", "D015738"), ("delirium", "Disease", "D003693")]  # the linker's ids
    assert list(relations) == [("D015738", "D003693", "CID")]


@trains("e2e_joint.cfg")
def test_e2e_joint_config_trains_both_heads_on_the_sourced_ner_transformer(tiny_docbin, saved_ner_model, tmp_path):
    """The NER pipeline trained on, a new relation head on its transformer, gold entities; assembled as
    project.yml's assemble-e2e-joint does, one encoder feeds both heads."""
    nlp = train_config("e2e_joint.cfg", tiny_docbin, None, tmp_path, ner_model=saved_ner_model)
    source = spacy.load(saved_ner_model)
    assert nlp.pipe_names == ["sentencizer", "transformer", "biobert_ner", "biobert_rel"]
    assert sorted(nlp.get_pipe("transformer").listening_components) == ["biobert_ner", "biobert_rel"]
    assert nlp.config["training"]["frozen_components"] == []
    assert nlp.config["corpora"]["train"]["@readers"] == "spacy_biobert.GoldEntsCorpus.v1"
    assert not same_weights(nlp, source)  # the encoder and the NER head trained on
    assert nlp.get_pipe("biobert_ner").labels == ("Chemical", "Disease")
    assert nlp.get_pipe("biobert_rel").labels == ("CID",)
    invoke("kb", "build", tmp_path / "kb", "--corpus", tiny_docbin)
    joint = tmp_path / "model-best"
    args = ["assemble", CONFIGS / "e2e.cfg", tmp_path / "e2e", "--paths.ner_model", joint, "--paths.rel_model", joint,
            "--paths.kb", tmp_path / "kb", "--components.biobert_rel.replace_listeners", "[]"]
    result = CliRunner().invoke(spacy_app, [str(arg) for arg in args])
    assert result.exit_code == 0, result.output
    e2e = spacy.load(tmp_path / "e2e")
    assert e2e.pipe_names == E2E_PIPELINE + ["biobert_rel_cues"]
    assert sorted(e2e.get_pipe("transformer").listening_components) == ["biobert_ner", "biobert_rel"]
    assert not [shim for node in e2e.get_pipe("biobert_rel").model.walk() for shim in node.shims
                if isinstance(shim, EncoderShim)]  # no encoder of its own
    assert same_weights(e2e, nlp) and ner_predictions(e2e) == ner_predictions(nlp)
    scores = gold_entity_scores(e2e)
    assert scores == gold_entity_scores(nlp) and all(scores)  # the relation head reads the shared transformer


@trains("e2e.cfg")
def test_e2e_config_assembles_the_shipped_pipeline_from_ner_and_relation_pipelines(tiny_docbin, tiny_bert, saved_ner_model,
                                                                        tmp_path):
    """Assembled (`spacy assemble`), not trained: from the NER fixture and a relation pipeline of rel.cfg."""
    rel_nlp = train_config("rel.cfg", tiny_docbin, tiny_bert, tmp_path / "rel")
    invoke("kb", "build", tmp_path / "kb", "--corpus", tiny_docbin)
    args = ["assemble", CONFIGS / "e2e.cfg", tmp_path / "e2e", "--paths.ner_model", saved_ner_model,
            "--paths.rel_model", tmp_path / "rel" / "model-best", "--paths.kb", tmp_path / "kb"]
    result = CliRunner().invoke(spacy_app, [str(arg) for arg in args])
    assert result.exit_code == 0, result.output
    nlp = spacy.load(tmp_path / "e2e")
    source = spacy.load(saved_ner_model)
    assert nlp.pipe_names == E2E_PIPELINE + ["biobert_rel_cues"]
    assert nlp.get_pipe("transformer").listening_components == ["biobert_ner"]  # the relation head has its own
    assert nlp.config["components"]["biobert_rel"]["model"]["tok2vec"]["@architectures"] == OWN_ENCODER_ARCHITECTURE
    assert same_weights(nlp, source)
    assert ner_predictions(nlp) == ner_predictions(source)
    scores = gold_entity_scores(nlp)
    assert scores == gold_entity_scores(rel_nlp) and all(scores)  # the relation pipeline's scores, exactly
    ents, relations = end_to_end(nlp, "Famotidine induced delirium in rats .")
    assert ents == [("Famotidine", "Chemical", "D015738"), ("delirium", "Disease", "D003693")]
    assert list(relations) == [("D015738", "D003693", "CID")]
    with nlp.select_pipes(disable=["biobert_rel_cues"]):  # the relation head finds it without the cue rule
        head_ents, head_relations = end_to_end(nlp, "Famotidine induced delirium in rats .")
    assert head_ents == ents and list(head_relations) == list(relations)
    # inference settings reach the relation head's own encoder as well as the shared transformer
    int8 = spacy.load(tmp_path / "e2e", config=inference_overrides(nlp.config, int8=True))
    assert int8.config["components"]["biobert_rel"]["model"]["tok2vec"]["int8_inference"] is True
    assert [set(found) for found in gold_entity_scores(int8)] == [set(found) for found in scores]
    # project.yml's train-head step: the head's MLP learns on the NER's predicted entities, its own encoder and
    # everything upstream stay as assembled
    invoke("train-head", tmp_path / "e2e", tiny_docbin, tmp_path / "e2e_head", "--entities", "predicted", "--epochs", "3",
           "--learn-rate", "0.05")
    head = spacy.load(tmp_path / "e2e_head")
    assert same_weights(head, source) and ner_predictions(head) == ner_predictions(source)
    own_encoders = [[shim.module.state_dict() for node in n.get_pipe("biobert_rel").model.walk() for shim in node.shims
                     if isinstance(shim, EncoderShim)] for n in (nlp, head)]
    assert len(own_encoders[1]) == 1 and own_encoders[0][0].keys() == own_encoders[1][0].keys()
    assert all(torch.equal(own_encoders[0][0][k], own_encoders[1][0][k]) for k in own_encoders[0][0])
    assert gold_entity_scores(head) != scores and head.meta["head_training"]["biobert_rel"]["entities"] == "predicted"
    # project.yml's one-encoder workflow: the same assembly with the relation head listening to the NER's transformer
    one_args = [*args[:2], tmp_path / "one", *args[3:], "--components.biobert_rel.replace_listeners", "[]"]
    result = CliRunner().invoke(spacy_app, [str(arg) for arg in one_args])
    assert result.exit_code == 0, result.output
    one = spacy.load(tmp_path / "one")
    assert sorted(one.get_pipe("transformer").listening_components) == ["biobert_ner", "biobert_rel"]
    assert not [shim for node in one.get_pipe("biobert_rel").model.walk() for shim in node.shims
                if isinstance(shim, EncoderShim)]  # no encoder of its own
    invoke("train-head", tmp_path / "one", tiny_docbin, tmp_path / "one_head", "--entities", "predicted", "--epochs", "3",
           "--learn-rate", "0.05")
    one_head = spacy.load(tmp_path / "one_head")
    assert same_weights(one_head, source) and ner_predictions(one_head) == ner_predictions(source)
    assert one_head.meta["head_training"]["biobert_rel"]["entities"] == "predicted"
