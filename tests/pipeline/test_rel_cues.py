"""Tests of the ``biobert_rel_cues`` component (rule-based: no model)."""
import pytest
import spacy
from spacy.tokens import Span

import spacy_biobert  # noqa: F401
from spacy_biobert.relations import get_concept_relations, set_concept_relations

TEXT = ("Cisplatin-induced nephrotoxicity and lithium associated with tremor were seen . "
        "Amifostine protects against ototoxicity . Haloperidol induced . Later , akathisia occurred .")


def entity(doc, text, label, kb_id=""):
    start = doc.text.index(text)
    return doc.char_span(start, start + len(text), label=label, kb_id=kb_id)


@pytest.fixture
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_rel_cues")
    return nlp


def annotated(nlp, text=TEXT):
    doc = nlp.make_doc(text)
    doc.ents = [
        entity(doc, "Cisplatin", "Chemical", "D002945"), entity(doc, "nephrotoxicity", "Disease", "D007674"),
        entity(doc, "lithium", "Chemical", "D008094"), entity(doc, "tremor", "Disease", "D014202"),
        entity(doc, "Amifostine", "Chemical", "D004999"), entity(doc, "ototoxicity", "Disease", "D006311"),
        entity(doc, "Haloperidol", "Chemical", "D006220"), entity(doc, "akathisia", "Disease", "D017109"),
    ]
    return doc


def test_cue_constructions_become_concept_relations(nlp):
    doc = nlp(annotated(nlp))
    assert get_concept_relations(doc) == {("D002945", "D007674", "CID"): 1.0, ("D008094", "D014202", "CID"): 1.0}


def test_a_full_stop_between_cue_and_disease_blocks_the_pair(nlp):
    doc = nlp(annotated(nlp))
    assert ("D006220", "D017109", "CID") not in get_concept_relations(doc)


def test_the_gap_is_bounded(nlp):
    nlp.replace_pipe("biobert_rel_cues", "biobert_rel_cues", config={"max_gap": 5})
    doc = nlp(annotated(nlp))
    assert list(get_concept_relations(doc)) == [("D002945", "D007674", "CID")]  # "with " is 5 characters


def test_head_scores_are_kept_and_raised(nlp):
    doc = annotated(nlp)
    set_concept_relations(doc, {("D004999", "D006311", "CID"): 0.7, ("D002945", "D007674", "CID"): 0.4})
    relations = get_concept_relations(nlp(doc))
    assert relations[("D004999", "D006311", "CID")] == 0.7
    assert relations[("D002945", "D007674", "CID")] == 1.0


def test_composite_ids_and_unlinked_mentions(nlp):
    doc = nlp.make_doc("Cisplatin-induced renal failure .")
    doc.ents = [entity(doc, "Cisplatin", "Chemical", "D002945|D000001"), entity(doc, "renal failure", "Disease")]
    assert set(get_concept_relations(nlp(doc))) == {("D002945", "text:renal failure", "CID"),
                                                    ("D000001", "text:renal failure", "CID")}


def test_cues_are_whole_words(nlp):
    doc = nlp.make_doc("Cisplatin inducedness nephrotoxicity .")
    doc.ents = [entity(doc, "Cisplatin", "Chemical", "D002945"), entity(doc, "nephrotoxicity", "Disease", "D007674")]
    assert get_concept_relations(nlp(doc)) == {}


def test_empty_doc_and_pipe_equals_call(nlp):
    assert get_concept_relations(nlp("")) == {}
    docs = [annotated(nlp) for _ in range(3)]
    piped = [get_concept_relations(doc) for doc in nlp.pipe(docs)]
    assert piped == [get_concept_relations(nlp(annotated(nlp)))] * 3


def test_long_document(nlp):
    doc = nlp.make_doc(" ".join([TEXT] * 300))
    step = len(TEXT) + 1
    doc.ents = [doc.char_span(i * step, i * step + 9, label="Chemical", kb_id="D002945") for i in range(300)] + [
        doc.char_span(i * step + 18, i * step + 32, label="Disease", kb_id="D007674") for i in range(300)]
    doc.ents = sorted(doc.ents, key=lambda e: e.start)
    assert get_concept_relations(nlp(doc)) == {("D002945", "D007674", "CID"): 1.0}


def test_saved_and_loaded_with_its_settings(nlp, tmp_path):
    nlp.replace_pipe("biobert_rel_cues", "biobert_rel_cues", config={"cues": ["induced"], "max_gap": 10})
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    doc = loaded(annotated(loaded))
    assert list(get_concept_relations(doc)) == [("D002945", "D007674", "CID")]


@pytest.mark.parametrize("config, message", [({"cues": []}, "cues"), ({"cues": [" "]}, "cues"),
                                             ({"max_gap": -1}, "max_gap"), ({"label": ""}, "label")])
def test_bad_settings_are_named(config, message):
    with pytest.raises(ValueError, match=message):
        spacy.blank("en").add_pipe("biobert_rel_cues", config=config)


def test_the_pipeline_evaluates_with_the_component(nlp):
    """spaCy's Scorer calls any ``score`` attribute of a component (as `spacy train` does at every evaluation)."""
    from spacy.training import Example

    examples = [Example(nlp.make_doc(TEXT), annotated(nlp))]
    assert "speed" in nlp.evaluate(examples)
