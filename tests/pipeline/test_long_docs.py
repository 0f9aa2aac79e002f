"""Documents over the character budget: split, annotated piece by piece, re-joined with whole-text offsets."""
import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from spacy_biobert.output.record import doc_to_record
from spacy_biobert.pipeline.long_docs import join_docs, keep_annotations, pipe_in_pieces, split_points
from tests.util import REL_TOY

pytestmark = pytest.mark.usefixtures("one_torch_thread")
PARAGRAPHS = [text for text, *_ in REL_TOY]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab .\n", max_size=400), st.integers(2, 60))
def test_pieces_partition_the_text_within_the_budget(text, max_chars):
    points = split_points(text, max_chars)
    assert points[0] == 0 and points[-1] == len(text)
    assert all(0 < b - a <= max_chars for a, b in zip(points, points[1:])) or text == ""


def test_cuts_prefer_paragraphs_then_lines_then_sentences_then_spaces():
    assert split_points("aaaa bb.\ncc\n\ndd", 14) == [0, 13, 15]
    assert split_points("aaaa bb. cc\ndd", 13) == [0, 12, 14]
    assert split_points("aaaa bb. cc dd", 13) == [0, 9, 14]
    assert split_points("aaaaaaa cc", 9) == [0, 8, 10]
    assert split_points("a" * 10, 4) == [0, 4, 8, 10]


@pytest.fixture(scope="module")
def nlp(joint_model):
    return spacy.load(joint_model)


def shifted(record, offset):
    """Entities and relations of a piece's record, in offsets of the whole text (ids left out)."""
    spans = {e["id"]: (e["start"] + offset, e["end"] + offset) for e in record["entities"]}
    ents = [(spans[e["id"]], e["label"], e["text"], round(e["confidence"], 5), str(e["concepts"]))
            for e in record["entities"]]
    rels = [(spans[r["head"]], spans[r["tail"]], r["label"], round(r["score"], 5)) for r in record["relations"]]
    return ents, rels


def test_a_long_text_is_its_pieces_annotated_alone_with_offsets_of_the_whole_text(nlp):
    text = "\n\n".join(PARAGRAPHS * 3)
    budget = max(map(len, PARAGRAPHS)) + 2
    (doc,) = pipe_in_pieces(nlp, [text], lambda docs: nlp.pipe(docs), max_chars=budget)
    joined = doc_to_record(doc, "long")
    assert joined["text"] == text and doc.text == text
    points = split_points(text, budget)
    assert len(points) > 4
    expected_ents, expected_rels, expected_concepts = [], [], {}
    for start, end in zip(points, points[1:]):
        piece = doc_to_record(nlp(text[start:end]), "piece")
        ents, rels = shifted(piece, start)
        expected_ents += ents
        expected_rels += rels
        for rel in piece["concept_relations"]:
            key = (rel["head"], rel["tail"], rel["label"])
            expected_concepts[key] = max(rel["score"], expected_concepts.get(key, 0.0))
    got_ents, got_rels = shifted(joined, 0)
    assert got_ents and got_ents == expected_ents
    assert all(text[s:e] == t for (s, e), _, t, *_ in got_ents)
    assert sorted(got_rels) == sorted(expected_rels)
    assert {(r["head"], r["tail"], r["label"]): r["score"] for r in joined["concept_relations"]} == \
        pytest.approx(expected_concepts)
    assert expected_rels or expected_concepts  # the toy pipeline finds relations: their offsets were checked


def test_short_texts_keep_their_order_around_a_long_one(nlp):
    texts = [PARAGRAPHS[0], "\n\n".join(PARAGRAPHS * 2), "", PARAGRAPHS[1]]
    docs = list(pipe_in_pieces(nlp, texts, lambda made: nlp.pipe(made), batch_size=2, max_chars=200))
    assert [doc.text for doc in docs] == texts
    assert doc_to_record(docs[3]) == doc_to_record(nlp(PARAGRAPHS[1]))


def test_pieces_keep_only_what_is_joined(nlp):
    doc = nlp(PARAGRAPHS[0])
    assert doc.has_extension("trf_data") and doc._.trf_data is not None
    before = doc_to_record(doc)
    keep_annotations(doc)
    assert all(isinstance(key, str) for key in doc.user_data) and doc_to_record(doc) == before
    assert join_docs([doc]) is doc
