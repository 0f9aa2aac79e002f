"""Normalizer: each step on its own."""
import pytest

from spacy_biobert.kb.normalize import BASELINE, Normalizer, strip_plural


def test_baseline_lower_cases_and_collapses_whitespace_only():
    assert BASELINE("  5-Fluoro\tUracil ") == "5-fluoro uracil"


def test_unicode_step():
    norm = Normalizer(punctuation=False)
    assert norm("ＴＮＦ-α") == "tnf- alpha"  # full-width letters (NFKC), Greek spelled out
    assert norm("ﬁbrosis") == "fibrosis"  # ligature


def test_punctuation_step():
    norm = Normalizer()
    assert norm("5-fluorouracil") == norm("5 fluorouracil") == "5 fluorouracil"
    assert norm("(+)-Amphetamine,") == "amphetamine"
    assert norm("---") == ""


@pytest.mark.parametrize("word, singular", [("therapies", "therapy"), ("seizures", "seizure"), ("illness", "illness"),
                                            ("virus", "virus"), ("gas", "gas"), ("psoriasis", "psoriasis")])
def test_plural_stripping(word, singular):
    assert strip_plural(word) == singular


def test_plurals_off_by_default():
    assert Normalizer()("seizures") == "seizures"
    assert Normalizer(plurals=True)("Renal Failures") == "renal failure"
