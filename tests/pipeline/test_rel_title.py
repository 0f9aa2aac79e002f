"""Title evidence for ``biobert_rel`` (``title_bonus``): the title found, its concepts, the bonus on title pairs."""
import numpy
import pytest
import spacy
from spacy.tokens import Span

from spacy_biobert.concepts import title_concept_ids
from spacy_biobert.corpus.sections import set_sections, title_end
from spacy_biobert.pipeline.rel_candidates import Candidates
from spacy_biobert.models.types import RelInstances
from spacy_biobert.pipeline.rel_title import title_rows, add_title_bonus
from spacy_biobert.relations import get_concept_relations
from tests.util import make_rel_nlp, rel_examples, train_rel

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TEXT = "Aspirin caused headache . Cisplatin was given later ; headache and nephrotoxicity followed ."


def with_ents(nlp, text=TEXT):
    doc = nlp.make_doc(text)
    words = [t.text for t in doc]
    ents = [("Aspirin", "Chemical", "C2"), ("headache", "Disease", "D2"), ("Cisplatin", "Chemical", "C1"),
             ("nephrotoxicity", "Disease", "")]
    doc.ents = [Span(doc, words.index(w), words.index(w) + 1, label, kb_id=kb) for w, label, kb in ents]
    return doc


def test_title_is_the_title_section_else_the_first_sentence_else_none():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    doc = nlp(TEXT)
    assert title_end(doc) == TEXT.index(".") + 1
    set_sections(doc, [("title", 0, 7), ("abstract", 8, len(TEXT))])
    assert title_end(doc) == 7
    assert title_end(spacy.blank("en")(TEXT)) == 0 and title_end(nlp("")) == 0  # no sentences; empty


def test_title_concepts_are_linked_entities_within_the_title():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    doc = nlp(with_ents(nlp))
    assert title_concept_ids(doc) == {"C2", "D2"}  # Cisplatin is in the second sentence
    doc = nlp(with_ents(nlp, "nephrotoxicity and Aspirin ; headache and Cisplatin ."))
    assert title_concept_ids(doc) == {"C2", "D2", "C1"}  # the unlinked nephrotoxicity (text fallback) is left out


def test_bonus_on_title_rows_only_and_at_most_one():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    doc = nlp(with_ents(nlp))
    # concept level: entities C2, D2, C1; rows (C2, D2) in the title, (C1, D2) not
    cands = Candidates(RelInstances([(0, 1), (2, 3), (4, 5)], [[0], [1], [2]], [(0, 1), (2, 1)]),
                       [("C2",), ("D2",), ("C1",)], None)
    assert title_rows(doc, cands, mention_level=False).tolist() == [True, False]
    probs = numpy.asarray([[0.6], [0.6]], dtype="f")
    assert add_title_bonus(doc, cands, probs, 0.3, False)[:, 0].tolist() == pytest.approx([0.9, 0.6])
    assert add_title_bonus(doc, cands, probs, 0.7, False)[:, 0].tolist() == pytest.approx([1.0, 0.6])
    assert add_title_bonus(doc, cands, probs, 0.0, False) is probs and probs[0, 0] == pytest.approx(0.6)
    # mention level: the mentions themselves must lie in the title
    mentions = list(doc.ents)
    cands = Candidates(RelInstances([(0, 1)] * 4, [[0], [1], [2], [3]], [(0, 1), (2, 1)]), [(), (), (), ()], mentions)
    assert title_rows(doc, cands, mention_level=True).tolist() == [True, False]


def test_the_component_adds_the_bonus_to_title_pairs_before_its_threshold(tiny_bert):
    nlp = make_rel_nlp(tiny_bert)
    train_rel(nlp, rel_examples(nlp), steps=10)
    rel = nlp.get_pipe("biobert_rel")
    with rel.temporarily(threshold=0.0, title_bonus=0.0):
        plain = get_concept_relations(nlp(with_ents(nlp)))
    with rel.temporarily(threshold=0.0, title_bonus=0.25):
        boosted = get_concept_relations(nlp(with_ents(nlp)))
    title_pair, other = ("C2", "D2", "CID"), ("C1", "D2", "CID")
    assert boosted[title_pair] == pytest.approx(min(1.0, plain[title_pair] + 0.25))
    assert boosted[other] == pytest.approx(plain[other])
    assert plain[title_pair] < 0.9
    cut = plain[title_pair] + 0.1  # between the probability and the boosted score
    with rel.temporarily(threshold=cut, title_bonus=0.25):
        assert title_pair in get_concept_relations(nlp(with_ents(nlp)))
    with rel.temporarily(threshold=cut, title_bonus=0.0):
        assert title_pair not in get_concept_relations(nlp(with_ents(nlp)))
