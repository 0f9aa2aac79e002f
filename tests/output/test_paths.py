"""Outputs checked against inputs (same file, symlink, hard link, a folder holding one) and written whole."""
import pytest

from spacy_biobert.output.paths import OutputOverwritesInput, atomic_output, refuse_overwriting
from tests.util import write_text


def test_an_output_that_is_an_input_or_holds_one_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    data = write_text(tmp_path / "data" / "in.jsonl", "{}\n")
    (tmp_path / "link.jsonl").symlink_to(data)
    (tmp_path / "hard.jsonl").hardlink_to(data)
    for output in (data, tmp_path / "link.jsonl", tmp_path / "hard.jsonl", tmp_path / "data" / ".." / "data/in.jsonl"):
        with pytest.raises(OutputOverwritesInput, match=f"{output} is the input file {data}"):
            refuse_overwriting([output], [data])
    for folder in (tmp_path / "data", tmp_path):
        with pytest.raises(OutputOverwritesInput, match=f"{folder} is a folder holding the input file {data}"):
            refuse_overwriting([folder], [tmp_path / "data"])
    refuse_overwriting([tmp_path / "data" / "out.jsonl", tmp_path / "new", None], [data, None, "not-a-path"])


def test_an_input_folder_stands_for_the_files_it_reads(tmp_path):
    write_text(tmp_path / "a.txt", "text")
    scores = write_text(tmp_path / "scores.json", "{}")
    refuse_overwriting([scores], [tmp_path], "*.txt")
    with pytest.raises(OutputOverwritesInput):
        refuse_overwriting([scores], [tmp_path])


def test_an_atomic_output_appears_only_when_complete(tmp_path):
    path = write_text(tmp_path / "scores.json", "old")
    with pytest.raises(RuntimeError):
        with atomic_output(path) as partial:
            partial.write_text("half")
            raise RuntimeError("killed")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["scores.json"]
    with atomic_output(path) as partial:
        partial.write_text("new")
    assert path.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["scores.json"]
