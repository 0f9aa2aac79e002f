"""``spacy biobert pretrain-mlm``: a few steps on the tiny BERT write a checkpoint a config can name; bad input
fails with a clear message."""
import json

import pytest

from spacy_biobert.pretraining.mlm import LOG_FILE
from tests.util import TOY_PUBTATOR, invoke, transformer_nlp, write_text

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_pretrain_mlm_on_txt_and_pubtator_writes_a_usable_encoder(tiny_bert, tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    write_text(folder / "a.txt", "Lithium-induced tremor was seen in two patients .")
    pubtator = write_text(tmp_path / "toy.pubtator", TOY_PUBTATOR)
    out = tmp_path / "encoder"
    result = invoke("pretrain-mlm", folder, pubtator, out, "--base", tiny_bert, "--steps", 3, "--batch-size", 2,
                    "--max-length", 16, "--seed", 1)
    output = " ".join(result.output.split())
    assert "Saved the encoder" in output and "newly initialised" in output
    log = json.loads((out / LOG_FILE).read_text(encoding="utf8"))
    assert log["documents"] == 2 and log["config"]["seed"] == 1 and len(log["losses"]) == 3
    assert (out / "config.json").is_file() and (out / "vocab.txt").is_file()
    nlp = transformer_nlp(str(out))
    nlp.initialize()
    assert nlp("Lithium-induced tremor .")._.trf_data.tensors[0].shape[-1] == 32


@pytest.mark.parametrize("make, problem", [
    (lambda p: p / "missing.txt", "no such file or folder"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "empty: no document in it"),
])
def test_bad_input_fails_clearly(tiny_bert, tmp_path, make, problem):
    result = invoke("pretrain-mlm", make(tmp_path), tmp_path / "out", "--base", tiny_bert, exit_code=1)
    assert problem in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def test_unknown_encoder_fails_clearly(tmp_path):
    text = write_text(tmp_path / "a.txt", "text")
    result = invoke("pretrain-mlm", text, tmp_path / "out", "--base", str(tmp_path / "no_encoder"), exit_code=1)
    assert "does not exist" in " ".join(result.output.split())


def test_base_is_required(tmp_path):
    invoke("pretrain-mlm", write_text(tmp_path / "a.txt", "text"), tmp_path / "out", exit_code=2)
