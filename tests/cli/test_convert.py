"""``spacy biobert convert``: output naming, JSON summary, the tokenizer of a config, errors."""
import json

from tests.util import CONFIGS, TOY_PUBTATOR, invoke, read_docbin, write_text


def test_cli_reports_malformed_input(tmp_path):
    write_text(tmp_path / "bad.pubtator", "1|t|T\n1|a|A\n1\t0\t1\tX\tChemical\tD1\n")
    result = invoke("convert", tmp_path / "bad.pubtator", tmp_path / "out", exit_code=1)
    assert "bad.pubtator:3" in result.output


def test_unknown_format_is_refused(tmp_path):
    source = write_text(tmp_path / "toy.pubtator", TOY_PUBTATOR)
    result = invoke("convert", source, tmp_path / "out", "--format", "xml", exit_code=1)
    assert "pubtator" in result.output and not (tmp_path / "out").exists()


def test_name_summary_json_and_config_tokenizer(tmp_path):
    source = write_text(tmp_path / "toy.pubtator", TOY_PUBTATOR)
    summary = tmp_path / "summary.json"
    args = ["--name", "renamed", "--summary-json", summary, "--config", CONFIGS / "ner.cfg"]
    invoke("convert", source, tmp_path / "out", *args)
    (doc,) = read_docbin(tmp_path / "out" / "renamed.spacy")
    assert [t.text for t in doc][:3] == ["Famotidine", "-", "associated"]  # the config's tokenizer
    assert json.loads(summary.read_text(encoding="utf8"))["documents"] == 1
