"""`python -m spacy_biobert evaluate`: gold-entity mode, end-to-end mode, strict character-offset NER."""
import json

import spacy
from typer.testing import CliRunner

from spacy_biobert.cli import app
from spacy_biobert.cli.convert import conversion_nlp

PUBTATOR = """1|t|Famotidine-associated delirium.
1|a|Famotidine is used in patients.
1\t0\t10\tFamotidine\tChemical\tD015738
1\t22\t30\tdelirium\tDisease\tD003693
1\t32\t42\tFamotidine\tChemical\tD015738
1\tCID\tD015738\tD003693
"""


def _setup(tmp_path):
    (tmp_path / "toy.pubtator").write_text(PUBTATOR, encoding="utf8")
    result = CliRunner().invoke(app, ["convert", str(tmp_path / "toy.pubtator"), str(tmp_path)])
    assert result.exit_code == 0, result.output
    nlp = conversion_nlp()
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "Chemical", "pattern": "Famotidine"}])  # finds both chemicals, no disease
    nlp.to_disk(tmp_path / "ruler")
    conversion_nlp().to_disk(tmp_path / "empty")


def _evaluate(tmp_path, model, *extra):
    out = tmp_path / f"{model}.json"
    args = ["evaluate", str(tmp_path / model), str(tmp_path / "toy.spacy"), "--output", str(out), *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
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
