"""Strict character-offset NER scoring against the source annotation."""
import pytest
import spacy

import spacy_biobert  # noqa: F401
from spacy_biobert.cli.evaluate import gold_char_mentions
from spacy_biobert.scoring.ner import predicted_char_mentions, score_char_offsets
from tests.util import write_text


def test_strict_char_offset_scoring(tmp_path):
    text = "Famotidine-induced delirium"
    pubtator = write_text(
        tmp_path / "toy.pubtator",
        "1|t|Famotidine-induced delirium\n1|a|x\n"
        "1\t0\t10\tFamotidine\tChemical\tD1\n1\t11\t27\tinduced delirium\tDisease\tD2\n"
        "1\t19\t27\tdelirium\tDisease\tD2\n\n",
    )
    gold = gold_char_mentions(pubtator)
    assert len(gold) == 3
    nlp = spacy.blank("en")
    doc = nlp.make_doc(text + " x")
    doc._.biobert_doc_id = "1"
    doc.ents = [doc.char_span(0, 10, "Chemical"), doc.char_span(19, 27, "Chemical")]
    scores = score_char_offsets(predicted_char_mentions([doc]), gold)
    assert (scores["tp"], scores["fp"], scores["fn"]) == (1, 1, 2)
    assert scores["p"] == 0.5 and scores["r"] == pytest.approx(1 / 3)
    assert scores["per_type"]["Disease"]["r"] == 0.0
