"""Windows limited by wordpieces: every token of any text gets wordpieces (and so a vector)."""
import copy

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spacy_transformers.span_getters import configure_strided_spans

from spacy_biobert.models.encoder import create_transformer_model_v2
from spacy_biobert.models.windows import WordpieceLimitedSpans, split_window, wordpiece_budget

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
