"""Document-level linking: abbreviations defined in the text, one id per string."""
import spacy

from spacy_biobert.kb import ConceptMatcher, KnowledgeBase
from spacy_biobert.kb.abbreviations import abbreviation_map
from spacy_biobert.kb.resolve import link_mentions


def make_matcher() -> ConceptMatcher:
    kb = KnowledgeBase()
    kb.add("C1", ["doxorubicin"], label="Chemical")
    kb.add("C9", ["DOX"], label="Chemical")  # another concept named DOX elsewhere
    kb.add("D1", ["cold"], label="Disease")
    kb.add("C2", ["cold"], label="Chemical")
    return ConceptMatcher(kb)


def test_abbreviation_map_without_registering_extensions():
    doc = spacy.blank("en")("Rats given doxorubicin ( DOX ) died . DOX is toxic .")
    assert abbreviation_map(doc) == {"DOX": "doxorubicin"}
    assert not doc.has_extension("abbreviations")


def test_defined_short_form_links_through_its_long_form():
    matcher = make_matcher()
    queries = [("doxorubicin", "Chemical"), ("DOX", "Chemical")]
    assert [c[0][0] for c in link_mentions(matcher, queries, {"DOX": "doxorubicin"})] == ["C1", "C1"]
    assert [c[0][0] for c in link_mentions(matcher, queries, {})] == ["C1", "C9"]


def test_unlinkable_long_form_keeps_the_short_forms_candidates():
    found = link_mentions(make_matcher(), [("DOX", "Chemical")], {"DOX": "qqqq zzzz"})
    assert found[0][0] == ("C9", 1.0)


def test_one_id_per_string():
    queries = [("cold", "Disease"), ("cold", "Disease"), ("Cold", "Chemical")]
    found = link_mentions(make_matcher(), queries)
    assert {c[0][0] for c in found} == {"D1"}
    assert link_mentions(make_matcher(), queries, consistent=False)[2][0][0] == "C2"
