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
