"""The ``biobert`` command group from both entry paths: ``python -m spacy biobert`` and ``python -m spacy_biobert``."""
import re
import subprocess
import sys

import pytest

from tests.util import TOY_PUBTATOR, read_docbin, write_text

ENTRY_PATHS = {"spacy": ["-m", "spacy", "biobert"], "spacy_biobert": ["-m", "spacy_biobert"]}  # python -m ...
COMMANDS = ("convert", "annotate", "evaluate", "optimize", "calibrate")


def python(*args, cwd=None) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` with this interpreter; fail with its output unless it exits 0."""
    result = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, cwd=cwd)
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.mark.parametrize("entry", ENTRY_PATHS)
def test_help_lists_the_commands(entry):
    out = python(*ENTRY_PATHS[entry], "--help").stdout
    for command in COMMANDS:  # a row of the command list (plain or rich output): the name, then its help
        assert re.search(rf"^[\s│]*{command}\s+\S", out, flags=re.M), out


@pytest.mark.parametrize("entry", ENTRY_PATHS)
def test_convert_writes_the_docbin(entry, tmp_path):
    source = write_text(tmp_path / "toy.pubtator", TOY_PUBTATOR)
    python(*ENTRY_PATHS[entry], "convert", source, tmp_path / "out", cwd=tmp_path)
    (doc,) = read_docbin(tmp_path / "out" / "toy.spacy")
    assert doc._.biobert_doc_id == "1"
    assert [(e.text, e.label_) for e in doc.ents] == [("Famotidine", "Chemical"), ("delirium", "Disease"),
                                                       ("Famotidine", "Chemical")]
    assert doc._.biobert_concept_relations == {("D015738", "D003693", "CID"): 1.0}


def test_optimize_saves_a_copy_with_int8_settings(saved_ner_model, tmp_path):
    out = tmp_path / "fast"
    python("-m", "spacy", "biobert", "optimize", saved_ner_model, out, "--int8", "--window", "48", "--stride", "40")
    import spacy

    model = spacy.load(out).config["components"]["transformer"]["model"]
    assert model["@architectures"] == "spacy_biobert.TransformerModel.v2"
    assert model["int8_inference"] is True and model["sort_windows"] is True
    assert (model["get_spans"]["window"], model["get_spans"]["stride"]) == (48, 40)
    assert spacy.load(out)("Lithium caused tremor.").text == "Lithium caused tremor."
    python("-m", "spacy", "biobert", "optimize", saved_ner_model, tmp_path / "sentences", "--sentence-windows", "32")
    get_spans = spacy.load(tmp_path / "sentences").config["components"]["transformer"]["model"]["get_spans"]
    assert get_spans == {"@span_getters": "spacy_biobert.sentence_windows.v1", "max_tokens": 32}
