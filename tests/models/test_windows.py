"""Windows limited by wordpieces: every token of any text gets wordpieces (and so a vector). Windows of whole
sentences: every token in exactly one window, sentences kept whole where they fit."""
import copy

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy_transformers.span_getters import configure_strided_spans

from spacy_biobert.models.encoder import create_transformer_model_v2
from spacy_biobert.models.windows import (WordpieceLimitedSpans, configure_sentence_windows, sentence_windows,
                                          split_window, wordpiece_budget)

ADVERSARIAL = {
    "unspaced CJK run": "Aspirin " + "药物引起的发热" * 150 + " caused fever in rats .",
    "long formula-like tokens": " ".join(["C" + "H2O" * 29] * 30) + " then fever .",
    "emoji and symbols": "😀" * 700 + " rash ⚠ … €100 (n=3) .",
    "one huge token": "x" * 5000 + " fever .",
}


@pytest.fixture(scope="module")
def encoder(tiny_bert):
    model = create_transformer_model_v2(tiny_bert, configure_strided_spans(128, 96))
    model.initialize()
    return model


def pieces_per_token(model, doc):
    return model.predict([doc]).doc_data[0].align.lengths.tolist()


def test_split_window_keeps_order_and_budget():
    doc = spacy.blank("en")("a b c d e f")
    pieces = split_window(doc[0:6], [2, 2, 9, 1, 1, 1], budget=4)
    assert [(p.start, p.end) for p in pieces] == [(0, 2), (2, 3), (3, 6)]  # the 9-piece token stands alone
    assert split_window(doc[1:4], [1, 1, 1], budget=4) == [doc[1:4]]


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_every_token_gets_wordpieces(encoder, name):
    doc = encoder_doc(ADVERSARIAL[name])
    lengths = pieces_per_token(encoder, doc)
    assert [t.text for t, n in zip(doc, lengths) if n == 0 and not t.is_space] == []


def test_without_the_limit_tokens_were_cut_off(encoder):
    """What the fix is for: the plain strided getter leaves the tail of the CJK example without wordpieces."""
    doc = encoder_doc(ADVERSARIAL["unspaced CJK run"])
    limited = encoder.attrs["get_spans"]
    encoder.attrs["get_spans"] = limited.get_spans
    try:
        lengths = pieces_per_token(encoder, doc)
    finally:
        encoder.attrs["get_spans"] = limited
    assert [t.text for t, n in zip(doc, lengths) if n == 0] == ["caused", "fever", "in", "rats", "."]


def test_budget_and_copy(encoder):
    assert wordpiece_budget(encoder.tokenizer) == 510
    getter = encoder.attrs["get_spans"]
    clone = copy.deepcopy(getter)
    assert isinstance(clone, WordpieceLimitedSpans) and clone.tokenizer is None and getter.tokenizer is not None


def encoder_doc(text):
    return spacy.blank("en")(text)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=3000))
def test_random_unicode_gets_wordpieces_wherever_the_tokenizer_keeps_characters(encoder, text):
    doc = encoder_doc(text)
    lengths = pieces_per_token(encoder, doc)
    kept = encoder.tokenizer([t.text for t in doc], add_special_tokens=False)["input_ids"]
    assert [t.i for t, n, ids in zip(doc, lengths, kept) if ids and n == 0] == []


def sentenced(text: str):
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp(text)


@given(st.lists(st.integers(min_value=1, max_value=30), min_size=0, max_size=12), st.integers(min_value=1, max_value=40))
@settings(max_examples=60, deadline=None)
def test_sentence_windows_cover_every_token_once_and_keep_sentences_whole_where_they_fit(lengths, max_tokens):
    doc = sentenced(" ".join(" ".join(["w"] * (n - 1) + ["."]) for n in lengths))
    windows = sentence_windows(doc, max_tokens)
    assert [t.i for w in windows for t in w] == list(range(len(doc)))  # in order, no overlap, no gap
    assert all(0 < len(w) <= max_tokens for w in windows)
    starts = {s.start for s in doc.sents}
    for sent in doc.sents:
        if len(sent) <= max_tokens:  # a sentence that fits is never cut
            assert any(w.start <= sent.start and sent.end <= w.end for w in windows)
    # packed: a window ends early only when the next sentence (or its first piece) would not fit
    lengths_at = {s.start: len(s) for s in doc.sents}
    for left, right in zip(windows, windows[1:]):
        assert right.start in starts or len(left) == max_tokens
        if right.start in starts:
            assert len(left) + min(lengths_at[right.start], max_tokens) > max_tokens


def test_sentence_windows_pack_sentences_up_to_the_budget():
    doc = sentenced("A b c . D e . F g h i j k l m n . O .")
    assert [w.text for w in sentence_windows(doc, 7)] == ["A b c . D e .", "F g h i j k l", "m n . O ."]
    assert [w.text for w in sentence_windows(doc, 6)] == ["A b c .", "D e .", "F g h i j k", "l m n . O ."]
    assert [w.text for w in sentence_windows(doc, 100)] == [doc.text]


def test_sentence_windows_of_a_doc_without_sentences_or_tokens():
    nlp = spacy.blank("en")
    assert [w.text for w in sentence_windows(nlp("a b c d e"), 2)] == ["a b", "c d", "e"]
    assert sentence_windows(nlp(""), 4) == []


def test_sentence_windows_by_name_and_a_bad_budget():
    from spacy.util import registry

    get_spans = registry.span_getters.get("spacy_biobert.sentence_windows.v1")(max_tokens=3)
    assert [[w.text for w in ws] for ws in get_spans([sentenced("A b . C d .")])] == [["A b .", "C d ."]]
    with pytest.raises(ValueError, match="max_tokens"):
        configure_sentence_windows(0)
