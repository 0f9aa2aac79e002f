"""Document sections: checked against the text, stored on the Doc, typed from BioC passages."""
import pytest
import spacy
from spacy.tokens import Doc

from spacy_biobert.corpus.sections import Section, get_sections, set_sections, title_and_abstract


def test_title_and_abstract_are_pubtator_offsets():
    title, abstract = title_and_abstract("Lithium tremor.", "Lithium caused it.")
    assert (title, abstract) == (Section("title", 0, 15), Section("abstract", 16, 34))


@pytest.mark.parametrize("sections, problem", [
    ([("title", 0, 99)], "outside the text"),
    ([("title", 0, 10), ("abstract", 5, 12)], "overlaps the section before"),
    ([("title", 0)], "expected \\(type, start, end\\)"),
])
def test_bad_sections_are_refused(sections, problem):
    doc = spacy.blank("en")("Lithium tremor. Lithium.")
    with pytest.raises(ValueError, match=problem):
        set_sections(doc, sections)
    assert get_sections(doc) == ()


def test_sections_survive_doc_bytes():
    nlp = spacy.blank("en")
    doc = nlp("Lithium tremor. Lithium.")
    doc._.biobert_sections = [("title", 0, 15), ("abstract", 16, 24)]
    assert Doc(nlp.vocab).from_bytes(doc.to_bytes())._.biobert_sections == (("title", 0, 15), ("abstract", 16, 24))
