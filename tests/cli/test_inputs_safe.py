"""Properties of every command that reads user files: whatever the arguments, no input file changes (nothing
outside the output folder is written when an output would overwrite an input); a run of ``annotate`` killed
mid-way leaves no output or a complete one, which a rerun completes without losing or repeating a document; and a
command writing a folder (pipeline, KB, encoder) killed mid-write leaves no folder or the earlier complete one,
never a half-written one, and its rerun writes it whole."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

import pytest

from tests.util import ROOT, TOY_PUBTATOR, invoke, write_text

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TEXT = "Famotidine induced delirium in rats ."
SUMMARY = r"(\d+) records written to \S+ \((\d+) already there, (\d+) skipped, (\d+) read\)"


@pytest.fixture(scope="module")
def workspace(saved_ner_model, tiny_bert, tmp_path_factory) -> Path:
    """Input files of every kind, with a symlink and a hard link to some; outputs go to ``out/``."""
    ws = tmp_path_factory.mktemp("workspace")
    shutil.copytree(saved_ner_model, ws / "model")
    shutil.copytree(tiny_bert, ws / "bert")
    write_text(ws / "toy.pubtator", TOY_PUBTATOR)
    write_text(ws / "pt.spacy", TOY_PUBTATOR)  # a PubTator file whose converted name is itself
    write_text(ws / "docs.jsonl", "".join(json.dumps({"id": f"d{i}", "text": TEXT}) + "\n" for i in range(3)))
    (ws / "texts").mkdir()
    for name in ("a", "b"):
        write_text(ws / "texts" / f"{name}.txt", f"{TEXT} {name}")
    write_text(ws / "vocab.tsv", "D015738\tFamotidine\t\tChemical\n")
    (ws / "docs_link.jsonl").symlink_to(ws / "docs.jsonl")
    (ws / "docs_hard.jsonl").hardlink_to(ws / "docs.jsonl")
    (ws / "toy_link.pubtator").symlink_to(ws / "toy.pubtator")
    (ws / "model_link").symlink_to(ws / "model", target_is_directory=True)
    invoke("convert", ws / "toy.pubtator", ws, "--name", "toy")  # toy.spacy: dev data for evaluate, calibrate
    return ws


def snapshot(ws: Path) -> Dict[str, bytes]:
    """The bytes of every file of the workspace outside ``out/`` (links followed)."""
    return {str(p.relative_to(ws)): p.read_bytes() for p in sorted(ws.rglob("*"))
            if p.is_file() and p.relative_to(ws).parts[0] != "out"}


REFUSED = 1
CASES = [  # (arguments, exit code): paths relative to the workspace
    (["convert", "toy.pubtator", "out/convert"], 0),
    (["convert", "pt.spacy", "."], REFUSED),
    (["convert", "toy.pubtator", "out/convert", "--summary-json", "toy.pubtator"], REFUSED),
    (["convert", "toy.pubtator", "out/convert", "--summary-json", "toy_link.pubtator"], REFUSED),
    (["annotate", "model", "docs.jsonl", "out/docs.pubtator"], 0),
    (["annotate", "model", "docs.jsonl", "docs.jsonl"], REFUSED),
    (["annotate", "model", "docs.jsonl", "docs.jsonl", "--overwrite", "--skip-bad"], REFUSED),
    (["annotate", "model", "docs.jsonl", "docs_link.jsonl", "--overwrite"], REFUSED),
    (["annotate", "model", "docs_link.jsonl", "docs_hard.jsonl"], REFUSED),
    (["annotate", "model", "texts", "texts/a.txt", "--output-format", "jsonl", "--overwrite"], REFUSED),
    (["annotate", "model", "docs.jsonl", "model/meta.json", "--output-format", "jsonl", "--overwrite"], REFUSED),
    (["annotate", "model", "docs.jsonl", ".", "--backend", "ray", "--overwrite"], REFUSED),
    (["evaluate", "model", "toy.spacy", "--output", "out/scores.json"], 0),
    (["evaluate", "model", "toy.spacy", "--output", "toy.spacy"], REFUSED),
    (["evaluate", "model", "toy.spacy", "--output", "model/config.cfg"], REFUSED),
    (["evaluate", "model", "toy.spacy", "--pubtator", "toy.pubtator", "--output", "toy_link.pubtator"], REFUSED),
    (["calibrate", "model", "toy.spacy", "out/calibrated", "--component", "biobert_ner"], 0),
    (["calibrate", "model", "toy.spacy", "model", "--component", "biobert_ner"], REFUSED),
    (["calibrate", "model_link", "toy.spacy", "model", "--component", "biobert_ner"], REFUSED),
    (["calibrate", "model", "toy.spacy", ".", "--component", "biobert_ner"], REFUSED),
    (["kb", "build", "out/kb", "--tsv", "vocab.tsv", "--corpus", "toy.pubtator"], 0),
    (["kb", "build", "vocab.tsv", "--tsv", "vocab.tsv"], REFUSED),
    (["kb", "build", ".", "--corpus", "toy.spacy"], REFUSED),
    (["pretrain-mlm", "texts", "out/mlm", "--base", "bert", "--steps", "1", "--batch-size", "2"], 0),
    (["pretrain-mlm", "texts", "bert", "--base", "bert", "--steps", "1"], REFUSED),
    (["pretrain-mlm", "texts", "docs.jsonl", "texts", "--base", "bert", "--steps", "1"], REFUSED),
    (["optimize", "model", "out/optimized"], 0),
    (["optimize", "model", "model"], REFUSED),
    (["optimize", "model_link", "."], REFUSED),
]


@pytest.mark.parametrize("args, exit_code", CASES, ids=[" ".join(args) for args, _ in CASES])
def test_no_command_changes_an_input_file(workspace, monkeypatch, args, exit_code):
    monkeypatch.chdir(workspace)
    before = snapshot(workspace)
    result = invoke(*args, exit_code=exit_code)
    assert snapshot(workspace) == before
    if exit_code == REFUSED:
        assert "input file" in " ".join(result.output.split())


def annotate_process(*args) -> subprocess.Popen:
    """``python -m spacy_biobert annotate ARGS`` in a subprocess, importing this checkout."""
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.Popen([sys.executable, "-m", "spacy_biobert", "annotate", *map(str, args)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(predicate, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("suffix", [".jsonl", ".pubtator"])
def test_a_killed_run_leaves_no_output_or_a_complete_one_and_the_rerun_completes_it(
        saved_ner_model, tmp_path, suffix):
    source = write_text(tmp_path / "in.jsonl", "".join(
        json.dumps({"id": f"d{i}", "text": f"{TEXT} {i}"}) + "\n" for i in range(400)))
    full, out = tmp_path / f"full{suffix}", tmp_path / f"out{suffix}"
    invoke("annotate", saved_ner_model, source, full)
    process = annotate_process(saved_ner_model, source, out, "--batch-size", "1")
    partial = tmp_path / f"out{suffix}.partial"
    wait_for(lambda: partial.exists() and partial.stat().st_size > 2000, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not out.exists() or out.read_bytes() == full.read_bytes()
    result = " ".join(invoke("annotate", saved_ner_model, source, out).output.split())
    written, resumed, skipped, read = map(int, re.search(SUMMARY, result).groups())
    assert (written + resumed, skipped, read) == (400, 0, 400)
    assert out.read_bytes() == full.read_bytes() and not partial.exists()


#: Run ``python -m spacy_biobert ARGS`` after making FUNCTION (``module:Class.method``) kill the process with
#: SIGKILL (no cleanup runs) when it is called: a kill in the middle of writing the output.
DIE_IN = """
import importlib, os, runpy, signal, sys
module, _, attribute = sys.argv[1].partition(":")
owner_name, _, name = attribute.rpartition(".")
owner = getattr(importlib.import_module(module), owner_name) if owner_name else importlib.import_module(module)
setattr(owner, name, lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL))
sys.argv = ["spacy_biobert", *sys.argv[2:]]
runpy.run_module("spacy_biobert", run_name="__main__")
"""
FOLDER_COMMANDS = {  # command -> (arguments with OUT for the output folder, the function it dies in)
    "calibrate": (["calibrate", "model", "toy.spacy", "OUT", "--component", "biobert_ner"],
                  "spacy_biobert.pipeline._base:BioBertPipe.to_disk"),  # after config, meta and the transformer
    "optimize": (["optimize", "model", "OUT"], "spacy_biobert.pipeline._base:BioBertPipe.to_disk"),
    "kb build": (["kb", "build", "OUT", "--tsv", "vocab.tsv", "--corpus", "toy.pubtator"],
                 "spacy_biobert.kb.base:KnowledgeBase.meta"),  # after kb.msgpack, before meta.json
    "pretrain-mlm": (["pretrain-mlm", "texts", "OUT", "--base", "bert", "--steps", "1", "--batch-size", "2"],
                     "transformers.tokenization_utils_base:PreTrainedTokenizerBase.save_pretrained"),  # after weights
}


def run_killed(workspace: Path, args, function: str) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", DIE_IN, function, *map(str, args)], cwd=workspace, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, f"not killed in {function}: {done.stdout}{done.stderr}"


def listing(folder: Path):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_a_folder_killed_mid_write_is_absent_or_the_earlier_complete_one_and_the_rerun_writes_it_whole(
        workspace, monkeypatch, tmp_path, command):
    monkeypatch.chdir(workspace)
    template, function = FOLDER_COMMANDS[command]
    out, reference = tmp_path / "out", tmp_path / "reference"
    invoke(*(reference if arg == "OUT" else arg for arg in template))
    args = [out if arg == "OUT" else arg for arg in template]
    run_killed(workspace, args, function)
    assert not out.exists() and (tmp_path / "out.partial").is_dir()  # killed mid-write, not before
    invoke(*args)  # the rerun replaces the stale partial folder
    assert listing(out) == listing(reference) and sorted(p.name for p in tmp_path.iterdir()) == ["out", "reference"]
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    run_killed(workspace, args, function)  # killed while replacing the earlier output: it stays as it was
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    invoke(*args)
    assert listing(out) == listing(reference) and sorted(p.name for p in tmp_path.iterdir()) == ["out", "reference"]
    if command == "pretrain-mlm":  # the log names the output folder, not the partial one it was written in
        assert json.loads((out / "pretrain_log.json").read_text())["output_dir"] == str(out)


@pytest.mark.parametrize("command", FOLDER_COMMANDS)
def test_an_output_folder_of_other_files_is_refused_before_the_work_and_left_alone(
        workspace, monkeypatch, tmp_path, command):
    monkeypatch.chdir(workspace)
    notes = write_text(tmp_path / "notes.txt", "years of work")
    result = invoke(*(tmp_path if arg == "OUT" else arg for arg in FOLDER_COMMANDS[command][0]), exit_code=REFUSED)
    assert f"{tmp_path} exists and is a folder of other files" in " ".join(result.output.split())
    assert list(tmp_path.iterdir()) == [notes] and notes.read_text() == "years of work"
