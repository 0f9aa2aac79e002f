"""A damaged pipeline folder fails at load time, naming the file that is missing or damaged."""
import shutil
from pathlib import Path

import pytest
import spacy

from spacy_biobert.pipeline.loading import load_pipeline
from spacy_biobert.pipeline.model_files import DamagedModelError, find_damaged
from tests.util import REL_TOY

pytestmark = pytest.mark.usefixtures("one_torch_thread")
#: Files of the joint model whose absence spaCy tolerates (defaults or empty vectors are used).
OPTIONAL = {"transformer/cfg", "vocab/key2row", "vocab/lookups.bin", "vocab/vectors", "vocab/vectors.cfg"}


def model_files(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def files(joint_model):
    found = model_files(joint_model)
    assert {"biobert_ner/cfg", "biobert_rel/model", "tokenizer", "vocab/strings.json"} <= set(found)
    return found


def damaged_copy(source, tmp_path, name, how):
    folder = tmp_path / "model"
    shutil.copytree(source, folder)
    path = folder / name
    if how == "missing":
        path.unlink()
    else:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return folder, path


def test_every_truncated_file_is_named_at_load_time(joint_model, files, tmp_path):
    for name in files:
        folder, path = damaged_copy(joint_model, tmp_path / name.replace("/", "_"), name, "truncated")
        with pytest.raises(DamagedModelError) as caught:
            load_pipeline(folder)
        assert str(caught.value).startswith(f"{path}: cannot be read"), name


def test_every_missing_file_is_named_at_load_time_unless_spacy_does_without_it(joint_model, files, tmp_path):
    for name in files:
        folder, path = damaged_copy(joint_model, tmp_path / name.replace("/", "_"), name, "missing")
        if name in OPTIONAL:
            assert load_pipeline(folder)(REL_TOY[0][0]).ents is not None
            continue
        with pytest.raises(Exception) as caught:
            load_pipeline(folder)
        assert str(path) in str(caught.value) or str(path.parent) in str(caught.value), name


@pytest.mark.parametrize("name", ["biobert_ner/cfg", "biobert_rel/cfg"])
def test_a_head_without_its_settings_fails_to_load_not_at_the_first_call(joint_model, tmp_path, name):
    folder, path = damaged_copy(joint_model, tmp_path, name, "missing")
    with pytest.raises(DamagedModelError, match=f"^{path}: missing; the pipeline folder is damaged"):
        spacy.load(folder)  # plain spacy.load: the head checks its own files


def test_settings_that_are_not_an_object_are_refused(joint_model, tmp_path):
    folder, path = damaged_copy(joint_model, tmp_path, "biobert_ner/cfg", "missing")
    path.write_text("[]")
    with pytest.raises(DamagedModelError, match="'biobert_ner' are not a JSON object"):
        spacy.load(folder)


def test_an_intact_folder_has_nothing_damaged_and_loads(joint_model):
    assert find_damaged(Path(joint_model)) is None
    assert load_pipeline(joint_model).pipe_names == spacy.load(joint_model).pipe_names

