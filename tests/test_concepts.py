"""Concept ids of mentions, and the exact-character-span rule that maps predicted mentions to gold concepts."""
import pytest
from spacy.tokens import Span, SpanGroup

from spacy_biobert import concept_ids
from spacy_biobert.concepts import concept_translation, gold_concept_mapper, text_concept_id
from spacy_biobert.corpus import MENTIONS_KEY
from tests.util import entity_doc

# ENTITY_TEXT: "Famotidine caused delirium and acute renal failure in two patients ."
RENAL_FAILURE = (37, 50)  # the characters of "renal failure" (tokens 5:7)


@pytest.fixture
def reference(nlp):
    """The gold doc: three ents, and a mention "renal" (tokens 5:6) whose source offsets were "renal failure"."""
    doc = entity_doc(nlp)
    group = SpanGroup(doc, name=MENTIONS_KEY, spans=[*doc.ents, Span(doc, 5, 6, "Disease", kb_id="D051437")])
    group.attrs["char_offsets"] = tuple((e.start_char, e.end_char) for e in doc.ents) + (RENAL_FAILURE,)
    doc.spans[MENTIONS_KEY] = group
    return doc


def test_concept_ids(nlp):
    doc = entity_doc(nlp)
    assert concept_ids(doc.ents[2]) == ("D058186", "D007674")
    unnormalised = Span(doc, 8, 10, "Disease", kb_id="-1")
    assert concept_ids(unnormalised) == ("text:two patients",)


def test_text_concept_id_lowercases_and_normalises_whitespace():
    assert text_concept_id("  Acute\n Renal  Failure ") == "text:acute renal failure"


def test_gold_concept_mapper_matches_exact_char_spans_only(nlp, reference):
    concepts_of = gold_concept_mapper(reference)
    pred = nlp.make_doc(reference.text)
    assert concepts_of(pred[0:1]) == ("D015738",)
    assert concepts_of(pred[4:7]) == ("D007674", "D058186")  # composite "D058186|D007674": both ids, sorted
    assert concepts_of(pred[5:6]) == ("D051437",)  # a mention of the span group, by its token span
    assert concepts_of(pred[5:7]) == ("D051437",)  # ... and by its source character offsets
    assert concepts_of(pred[4:6]) == ("text:acute renal",)  # overlaps gold mentions but matches none
    assert concepts_of(pred[8:10]) == ("text:two patients",)


def test_concept_translation_maps_predicted_concepts_to_gold_ids(nlp, reference):
    pred = nlp.make_doc(reference.text)
    pred.ents = [
        Span(pred, 0, 1, "Chemical"),
        Span(pred, 2, 3, "Disease", kb_id="P1|P2"),  # a predicted composite id: each part maps
        Span(pred, 4, 7, "Disease"),
        Span(pred, 8, 10, "Disease"),
    ]
    assert dict(concept_translation(pred, reference)) == {
        "text:famotidine": {"D015738"},
        "P1": {"D003693"},
        "P2": {"D003693"},
        "text:acute renal failure": {"D058186", "D007674"},
        "text:two patients": set(),  # no gold mention with these characters
    }
