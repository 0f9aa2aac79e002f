"""`python -m spacy_biobert evaluate`: gold-entity mode, end-to-end mode, strict character-offset NER."""
import json

from spacy_biobert.cli.convert import conversion_nlp
from tests.util import TOY_PUBTATOR, invoke, write_text


def _setup(tmp_path):
    invoke("convert", write_text(tmp_path / "toy.pubtator", TOY_PUBTATOR), tmp_path)
    nlp = conversion_nlp()
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "Chemical", "pattern": "Famotidine"}])  # finds both chemicals, no disease
    nlp.to_disk(tmp_path / "ruler")
    conversion_nlp().to_disk(tmp_path / "empty")


def _evaluate(tmp_path, model, *extra):
    out = tmp_path / f"{model}.json"
    invoke("evaluate", tmp_path / model, tmp_path / "toy.spacy", "--output", out, *extra)
    return json.loads(out.read_text())


def test_end_to_end_and_strict_char_scores(tmp_path):
    _setup(tmp_path)
    scores = _evaluate(tmp_path, "ruler", "--pubtator", str(tmp_path / "toy.pubtator"))
    assert scores["mode"] == "end_to_end"
    assert scores["ents_p"] == 1.0 and abs(scores["ents_r"] - 2 / 3) < 1e-9
    strict = scores["ner_strict_chars"]
    assert (strict["tp"], strict["fp"], strict["fn"]) == (2, 0, 1)


def test_gold_entities_mode_starts_from_gold(tmp_path):
    _setup(tmp_path)
    assert _evaluate(tmp_path, "empty", "--gold-entities")["mode"] == "gold_entities"
    scores = _evaluate(tmp_path, "empty", "--gold-entities", "--pubtator", str(tmp_path / "toy.pubtator"))
    assert scores["ner_strict_chars"]["f"] == 1.0
    assert _evaluate(tmp_path, "empty", "--pubtator", str(tmp_path / "toy.pubtator"))["ner_strict_chars"]["f"] == 0.0


def test_printed_scores_are_percent_with_per_type_and_strict_rows(tmp_path):
    _setup(tmp_path)
    printed = invoke("evaluate", tmp_path / "ruler", tmp_path / "toy.spacy", "--pubtator", tmp_path / "toy.pubtator").output
    lines = [" ".join(line.split()) for line in printed.splitlines()]
    assert "ents_p 100.00" in lines and "ents_r 66.67" in lines
    assert "Chemical 100.00 100.00 100.00" in lines  # ents_per_type
    assert "all 100.00 66.67 80.00 2 0 1" in lines  # strict character offsets
    assert not any(line.startswith(("token_", "sents_")) for line in lines)
