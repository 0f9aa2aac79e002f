"""Outputs checked against inputs (same file, symlink, hard link, a folder holding one) and written whole."""
import os

import pytest

from spacy_biobert.output.paths import (
    PARTIAL_MARK,
    OutputNotReplaceable,
    OutputOverwritesInput,
    atomic_folder,
    atomic_output,
    refuse_overwriting,
)
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


def test_the_paths_beside_an_output_are_checked_against_the_inputs(tmp_path):
    data = write_text(tmp_path / "out.partial", "{}\n")
    (tmp_path / "model.replaced").mkdir()
    held = write_text(tmp_path / "model.replaced" / "config.cfg", "")
    with pytest.raises(OutputOverwritesInput, match="out.partial is the input file"):
        refuse_overwriting([tmp_path / "out"], [data])
    with pytest.raises(OutputOverwritesInput, match=f"model.replaced is a folder holding the input file {held}"):
        refuse_overwriting([tmp_path / "model"], [tmp_path / "model.replaced"])


KIND = ("config.cfg", "meta.json")


def put(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text(path, text)


def write_output(folder, content: str):
    for name in KIND:
        put(folder / name, content)
    put(folder / "weights" / "model", content)


def listing(folder):
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_an_atomic_folder_appears_only_when_complete_and_replaces_an_earlier_output_then(tmp_path):
    out = tmp_path / "model"
    with pytest.raises(RuntimeError):
        with atomic_folder(out, KIND) as partial:
            put(partial / "config.cfg", "half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
    with atomic_folder(out, KIND) as partial:
        assert partial == tmp_path / "model.partial" and list(partial.iterdir()) == [partial / PARTIAL_MARK]
        write_output(partial, "old")
        assert not out.exists()
    assert listing(out) == {"config.cfg": "old", "meta.json": "old", "weights/model": "old"}
    with pytest.raises(RuntimeError):
        with atomic_folder(out, KIND) as partial:
            write_output(partial, "half")
            raise RuntimeError("killed")
    assert listing(out)["config.cfg"] == "old" and [p.name for p in tmp_path.iterdir()] == ["model"]
    with atomic_folder(out, KIND) as partial:
        put(partial / "config.cfg", "new")
        put(partial / "meta.json", "new")
    assert listing(out) == {"config.cfg": "new", "meta.json": "new"}  # replaced, not merged
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_a_failed_move_puts_the_earlier_output_back(tmp_path, monkeypatch):
    out = tmp_path / "model"
    write_output(out, "old")
    replace, calls = os.replace, []

    def failing(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk gone")
        return replace(src, dst)

    with pytest.raises(OSError, match="disk gone"):
        with atomic_folder(out, KIND) as partial:
            write_output(partial, "new")
            monkeypatch.setattr(os, "replace", failing)
    assert listing(out)["config.cfg"] == "old" and [p.name for p in tmp_path.iterdir()] == ["model"]


def test_what_a_killed_run_left_beside_the_output_is_removed_by_the_next(tmp_path):
    out = tmp_path / "model"
    (tmp_path / "model.partial" / "vocab").mkdir(parents=True)  # killed mid-write: marked
    put(tmp_path / "model.partial" / PARTIAL_MARK, "")
    put(tmp_path / "model.partial" / "config.cfg", "half")
    write_output(tmp_path / "model.replaced", "older")  # killed between the renames: an output of the kind
    with atomic_folder(out, KIND) as partial:
        assert list(partial.iterdir()) == [partial / PARTIAL_MARK]
        write_output(partial, "new")
    assert listing(out)["config.cfg"] == "new" and [p.name for p in tmp_path.iterdir()] == ["model"]


@pytest.mark.parametrize("where", ["model", "model.partial", "model.replaced"])
def test_a_folder_of_other_files_is_refused_and_left_alone(tmp_path, where):
    put(tmp_path / where / "thesis.tex", "years of work")
    with pytest.raises(OutputNotReplaceable, match=f"{tmp_path / where} exists and is .*no config.cfg, meta.json"):
        with atomic_folder(tmp_path / "model", KIND):
            pytest.fail("the block must not run")
    assert (tmp_path / where / "thesis.tex").read_text() == "years of work"
    assert [p.name for p in tmp_path.iterdir()] == [where]


def test_a_symlinked_output_is_replaced_and_its_target_left_alone(tmp_path):
    write_output(tmp_path / "real", "old")
    (tmp_path / "model").symlink_to(tmp_path / "real", target_is_directory=True)
    with atomic_folder(tmp_path / "model", KIND) as partial:
        write_output(partial, "new")
    assert not (tmp_path / "model").is_symlink() and listing(tmp_path / "model")["config.cfg"] == "new"
    assert listing(tmp_path / "real")["config.cfg"] == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "real"]


def test_a_symlink_beside_the_output_is_refused_and_left_alone(tmp_path):
    put(tmp_path / "real" / "config.cfg", "")
    put(tmp_path / "real" / "meta.json", "")
    (tmp_path / "model.partial").symlink_to(tmp_path / "real", target_is_directory=True)
    with pytest.raises(OutputNotReplaceable, match="model.partial exists and is a symlink"):
        with atomic_folder(tmp_path / "model", KIND):
            pass
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["config.cfg", "meta.json"]


def test_a_file_where_an_output_folder_goes_is_refused(tmp_path):
    put(tmp_path / "model", "notes")
    with pytest.raises(OutputNotReplaceable, match="model exists and is not a folder"):
        with atomic_folder(tmp_path / "model", KIND):
            pass
    assert (tmp_path / "model").read_text() == "notes"
