"""bench/rel_baselines.py: the sentence co-occurrence CID baseline fills the concept-relation store from doc.ents."""
import importlib.util
from pathlib import Path

import spacy
from spacy.tokens import Span

from spacy_biobert.relations import get_concept_relations, set_concept_relations

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("rel_baselines", ROOT / "bench" / "rel_baselines.py")
rel_baselines = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(rel_baselines)

# sentences: 0-4 | 5-10 | 11-17
TEXT = "Cisplatin caused nephrotoxicity and headache . Tremor followed lithium and aspirin . " \
       "Aspirin and cisplatin are chemicals only ."


def doc_with_ents(sentences=True):
    nlp = spacy.blank("en")
    if sentences:
        nlp.add_pipe("sentencizer")
    doc = nlp(TEXT)
    doc.ents = [
        Span(doc, 0, 1, "Chemical", kb_id="C1"), Span(doc, 2, 3, "Disease", kb_id="D1|D2"),
        Span(doc, 4, 5, "Disease"),  # no id: the text fallback concept
        Span(doc, 6, 7, "Disease", kb_id="D3"), Span(doc, 8, 9, "Chemical", kb_id="C3"),
        Span(doc, 10, 11, "Chemical", kb_id="-1"),
        Span(doc, 12, 13, "Chemical", kb_id="C4"), Span(doc, 14, 15, "Chemical", kb_id="C1"),
    ]
    return doc


def test_every_chemical_disease_pair_of_a_sentence_is_a_cid_relation():
    doc = doc_with_ents()
    set_concept_relations(doc, {("old", "pair", "CID"): 0.2})  # replaced
    assert rel_baselines.cooccurrence_relations(doc) is doc
    # composite ids give both concepts; a disease before its chemical still makes (chemical, disease);
    # no chemical-chemical pair, no pair across sentences (C1 and D3 never share a sentence)
    assert get_concept_relations(doc) == {
        ("C1", "D1", "CID"): 1.0, ("C1", "D2", "CID"): 1.0, ("C1", "text:headache", "CID"): 1.0,
        ("C3", "D3", "CID"): 1.0, ("text:aspirin", "D3", "CID"): 1.0,
    }


def test_without_sentence_boundaries_the_document_is_one_sentence():
    relations = get_concept_relations(rel_baselines.cooccurrence_relations(doc_with_ents(sentences=False)))
    assert ("C1", "D3", "CID") in relations and ("C4", "D1", "CID") in relations
    assert len(relations) == 4 * 4  # chemical concepts C1 C3 text:aspirin C4 x diseases D1 D2 text:headache D3


def test_no_entities_no_relations_and_other_type_pairs():
    nlp = spacy.blank("en")
    assert get_concept_relations(rel_baselines.cooccurrence_relations(nlp("No entity here ."))) == {}
    relations = rel_baselines.cooccurrence_relations(doc_with_ents(), type_pairs={("Disease", "Chemical")},
                                                     label="REV")
    assert ("D3", "C3", "REV") in get_concept_relations(relations)


def test_with_sentences_adds_a_sentencizer_only_when_none_sets_boundaries():
    nlp = rel_baselines.with_sentences(spacy.blank("en"))
    assert nlp.pipe_names == ["sentencizer"]
    assert rel_baselines.with_sentences(nlp).pipe_names == ["sentencizer"]


def test_entity_pipeline_gold_is_the_config_tokenizer_with_a_sentencizer():
    nlp = rel_baselines.entity_pipeline(None, ROOT / "configs" / "rel.cfg")
    assert nlp.pipe_names == ["sentencizer"]
    assert nlp.config["nlp"]["tokenizer"]["@tokenizers"] == "spacy_biobert.Tokenizer.v1"


def test_entity_pipeline_end_to_end_runs_the_model_without_its_relation_head(joint_model):
    nlp = rel_baselines.entity_pipeline(Path(joint_model), ROOT / "configs" / "rel.cfg")
    assert "biobert_rel" in nlp.disabled and "biobert_ner" in nlp.pipe_names
    assert nlp.pipe_names.count("sentencizer") == 1  # the model's own
