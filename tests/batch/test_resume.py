"""Resuming a partly written output."""
import pytest

from spacy_biobert.batch.resume import done_ids


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
