"""Input readers of batch annotation: formats, bad records named by file and line, skips accounted for."""
import pytest

from spacy_biobert.batch.inputs import read_inputs
from spacy_biobert.corpus.documents import BadInput, InputDoc, Skipped, guess_format
from tests.util import write_text

PUBTATOR = "1|t|Lithium tremor.\n1|a|Tremor.\n1\t0\t7\tLithium\tChemical\tD1\n\n2|t|Aspirin.\n2|a|None.\n\n"


def test_formats_from_suffixes(tmp_path):
    assert [guess_format(tmp_path / n) for n in ("a.txt", "a.jsonl", "a.pubtator", "a.xml", "a.pubtator.gz")] == [
        "text", "jsonl", "pubtator", "bioc", "pubtator"]
    assert guess_format(tmp_path) == "text"
    with pytest.raises(ValueError, match="cannot tell the format"):
        guess_format(tmp_path / "a.csv")


def test_text_folder_jsonl_and_pubtator(tmp_path):
    (tmp_path / "txt").mkdir()
    write_text(tmp_path / "txt" / "b.txt", "Second.")
    write_text(tmp_path / "txt" / "a.txt", "First.\nLine two.")
    assert list(read_inputs(tmp_path / "txt", "text")) == [
        InputDoc("a", "First.\nLine two.", str(tmp_path / "txt" / "a.txt")),
        InputDoc("b", "Second.", str(tmp_path / "txt" / "b.txt"))]
    path = write_text(tmp_path / "in.jsonl", '{"id": 1, "text": "One."}\n\n{"id": "x", "text": ""}\n')
    assert [(d.id, d.text, d.where) for d in read_inputs(path, "jsonl")] == [
        ("1", "One.", f"{path}:1"), ("x", "", f"{path}:3")]
    path = write_text(tmp_path / "in.pubtator", PUBTATOR)
    assert [(d.id, d.text) for d in read_inputs(path, "pubtator")] == [("1", "Lithium tremor. Tremor."), ("2", "Aspirin. None.")]
    assert next(read_inputs(path, "pubtator")).sections == (("title", 0, 15), ("abstract", 16, 23))


def test_sections_travel_in_ray_rows(tmp_path):
    from spacy_biobert.batch.ray_sources import input_doc, row

    doc = next(read_inputs(write_text(tmp_path / "in.pubtator", PUBTATOR), "pubtator"))
    assert input_doc(row(doc)) == doc
    plain = InputDoc("a", "Text.", "a.txt")
    assert row(plain)["sections"] is None and input_doc(row(plain)) == plain


@pytest.mark.parametrize("line, problem", [
    ('{"id": 1, "text": "x"', "malformed JSON"),
    ('{"text": "x"}', "missing 'id'"),
    ('{"id": 2, "text": null}', "'text' must be a string"),
    ('[1, 2]', "expected a JSON object"),
    ('{"id": 1, "text": "again"}', "repeats the one at"),
    ('{"id": 2, "text": "bad \\ud83d here"}', r"'text' holds a lone surrogate '\\ud83d' at character 4"),
    ('{"id": "\\udfff", "text": "x"}', "'id' holds a lone surrogate"),
])
def test_bad_jsonl_records_are_named_or_skipped(tmp_path, line, problem):
    path = write_text(tmp_path / "in.jsonl", '{"id": 1, "text": "One."}\n' + line + '\n{"id": 3, "text": "Three."}\n')
    with pytest.raises(BadInput, match=f"{path}:2: .*{problem}"):
        list(read_inputs(path, "jsonl"))
    items = list(read_inputs(path, "jsonl", skip_bad=True))
    assert [type(i) for i in items] == [InputDoc, Skipped, InputDoc] and items[1].where == f"{path}:2"


def test_non_utf8_line_and_bad_pubtator_block(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": 1, "text": "\xff"}\n')
    with pytest.raises(BadInput, match=f"{path}:1: not valid UTF-8"):
        list(read_inputs(path, "jsonl"))
    path = write_text(tmp_path / "in.pubtator", PUBTATOR.replace("0\t7\tLithium", "0\t7\tLithiuX"))
    with pytest.raises(BadInput, match=f"{path}:3: mention text"):
        list(read_inputs(path, "pubtator"))
    assert [type(i).__name__ for i in read_inputs(path, "pubtator", skip_bad=True)] == ["Skipped", "InputDoc"]
