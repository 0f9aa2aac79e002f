"""Resuming a partly written output."""
import pytest

from spacy_biobert.batch.resume import done_ids, resumable_writer
from spacy_biobert.output.paths import partial_path

A, B = '{"id": "a", "text": ""}\n', '{"id": "b", "text": ""}\n'


def test_jsonl_keeps_whole_records_and_cuts_a_partial_one(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n{"id": "b", "text": "y"}\n{"id": "c", "te')
    assert done_ids(path, "jsonl") == {"a", "b"}
    assert path.read_text() == '{"id": "a", "text": "x"}\n{"id": "b", "text": "y"}\n'


def test_pubtator_keeps_whole_blocks(tmp_path):
    path = tmp_path / "out.pubtator"
    path.write_text("1|t|A\n1|a|B\n\n2|t|C\n2|a|")
    assert done_ids(path, "pubtator") == {"1"} and path.read_text() == "1|t|A\n1|a|B\n\n"


def test_missing_empty_and_bioc(tmp_path):
    assert done_ids(tmp_path / "none.jsonl", "jsonl") == set()
    (tmp_path / "out.xml").write_text("<collection>")
    with pytest.raises(ValueError, match="cannot be resumed"):
        done_ids(tmp_path / "out.xml", "bioc")


def test_a_run_writes_a_partial_file_and_renames_it_when_complete(tmp_path):
    path = tmp_path / "out.jsonl"
    with resumable_writer(path, "jsonl") as (writer, done):
        writer.write({"id": "a", "text": ""})
        assert done == set() and not path.exists() and partial_path(path).exists()
    assert path.read_text() == A and not partial_path(path).exists()


def test_resume_goes_on_from_a_copy_and_overwrite_replaces_only_at_the_end(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text(A)
    with pytest.raises(RuntimeError):
        with resumable_writer(path, "jsonl") as (writer, done):
            assert done == {"a"}
            writer.write({"id": "b", "text": ""})
            raise RuntimeError("killed")
    assert path.read_text() == A  # the complete output is untouched
    with resumable_writer(path, "jsonl") as (writer, done):  # goes on from the partial file
        assert done == {"a", "b"}
    assert path.read_text() == A + B
    with pytest.raises(RuntimeError):
        with resumable_writer(path, "jsonl", overwrite=True) as (writer, done):
            assert done == set()
            raise RuntimeError("killed")
    assert path.read_text() == A + B


def test_bioc_refuses_an_existing_output_and_starts_a_partial_one_over(tmp_path):
    path = tmp_path / "out.xml"
    partial_path(path).write_text("<collection><document>")
    with resumable_writer(path, "bioc") as (writer, done):
        assert done == set()
    assert "<collection>" in path.read_text() and not partial_path(path).exists()
    with pytest.raises(ValueError, match="cannot be resumed"):
        with resumable_writer(path, "bioc"):
            pass


@pytest.mark.parametrize("line, problem", [("not json", "not a JSON record"), ('{"text": "x"}', "without an 'id'"),
                                           ("[1, 2]", "without an 'id'")])
def test_a_damaged_complete_line_is_named_by_file_and_line(tmp_path, line, problem):
    path = tmp_path / "out.jsonl"
    path.write_text(A + "\n" + line + "\n" + B)
    with pytest.raises(ValueError, match=f"out.jsonl:3: .*{problem}.*--overwrite"):
        done_ids(path, "jsonl")
    assert path.read_text() == A + "\n" + line + "\n" + B  # nothing cut
