"""Every command refuses an input it cannot use -- wrong kind of file, empty file or folder, unknown format --
with a non-zero exit and a message naming the file (no traceback)."""
import pytest
import spacy

from tests.util import invoke, write_text


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("refusals")
    spacy.blank("en").to_disk(root / "blank")
    (root / "empty_dir").mkdir()
    for name in ("empty.txt", "empty.pubtator", "empty.jsonl", "empty.tsv", "empty.spacy"):
        write_text(root / name, "")
    write_text(root / "not.xml", "hello\n")
    write_text(root / "in.jsonl", '{"id": "1", "text": "Lithium."}\n')
    return root


CASES = {
    "convert": [
        (["convert", "{empty_dir}", "{out}"], "empty_dir: a folder; --format pubtator reads a file"),
        (["convert", "{empty.pubtator}", "{out}"], "empty.pubtator: file is empty"),
        (["convert", "{not.xml}", "{out}", "--format", "bioc"], "not.xml:1: malformed XML"),
        (["convert", "{empty_dir}", "{out}", "--format", "brat"], "empty_dir: no .ann files"),
        (["convert", "{empty.txt}", "{out}", "--format", "csv"], "Unknown format 'csv'"),
    ],
    "annotate": [
        (["annotate", "{blank}", "{empty.jsonl}", "{out}.jsonl"], "empty.jsonl: no document in it"),
        (["annotate", "{blank}", "{empty_dir}", "{out}.jsonl"], "empty_dir: no document in it"),
        (["annotate", "{blank}", "{empty.spacy}", "{out}.jsonl"], "empty.spacy: cannot tell the format"),
        (["annotate", "{blank}", "{in.jsonl}", "{out}.csv"], "out.csv: unknown output format"),
        (["annotate", "{empty_dir}", "--text", "x"], "empty_dir: not a spaCy pipeline folder"),
    ],
    "evaluate": [
        (["evaluate", "{blank}", "{empty.spacy}"], "empty.spacy: not a spaCy DocBin"),
        (["evaluate", "{blank}", "{not.xml}"], "not.xml: not a .spacy file"),
        (["evaluate", "{blank}", "{empty_dir}"], "empty_dir: no .spacy file in this folder"),
        (["evaluate", "{empty.txt}", "{empty.spacy}"], "empty.txt: not a spaCy pipeline folder"),
    ],
    "calibrate": [
        (["calibrate", "{blank}", "{not.xml}", "{out}"], "not.xml: not a .spacy file"),
        (["calibrate", "{empty_dir}", "{not.xml}", "{out}"], "empty_dir: not a spaCy pipeline folder"),
    ],
    "train-head": [
        (["train-head", "{blank}", "{not.xml}", "{out}"], "not.xml: not a .spacy file"),
        (["train-head", "{empty_dir}", "{empty.spacy}", "{out}"], "empty_dir: not a spaCy pipeline folder"),
    ],
    "kb build": [
        (["kb", "build", "{out}", "--tsv", "{empty.tsv}"], "empty.tsv: no concept in this source"),
        (["kb", "build", "{out}", "--jsonl", "{empty.jsonl}"], "empty.jsonl: no concept in this source"),
        (["kb", "build", "{out}", "--corpus", "{empty.spacy}"], "empty.spacy: cannot read it"),
        (["kb", "build", "{out}", "--mesh-xml", "{not.xml}"], "not.xml:1: malformed XML"),
    ],
    "pretrain-mlm": [
        (["pretrain-mlm", "{empty.txt}", "{out}", "--base", "x"], "no text in {empty.txt}"),
        (["pretrain-mlm", "{empty_dir}", "{out}", "--base", "x"], "empty_dir: no document in it"),
        (["pretrain-mlm", "{empty.spacy}", "{out}", "--base", "x"], "empty.spacy: cannot tell the format"),
    ],
    "optimize": [
        (["optimize", "{empty_dir}", "{out}"], "empty_dir: not a spaCy pipeline folder"),
        (["optimize", "{empty.txt}", "{out}"], "empty.txt: not a spaCy pipeline folder"),
    ],
    "serve": [
        (["serve", "{empty_dir}"], "empty_dir: not a spaCy pipeline folder"),
        (["serve", "{empty.txt}"], "empty.txt: not a spaCy pipeline folder"),
        (["serve", "no_such_pipeline_pkg"], "no_such_pipeline_pkg: no such pipeline folder, and no installed package"),
    ],
}


@pytest.mark.parametrize("args, message", [case for cases in CASES.values() for case in cases],
                         ids=[f"{command}-{i}" for command, cases in CASES.items() for i in range(len(cases))])
def test_a_bad_input_is_refused_naming_it(paths, tmp_path, args, message):
    names = {p.name: str(p) for p in paths.iterdir()}
    names["out"] = str(tmp_path / "out")

    def fill(text):
        for name, path in names.items():
            text = text.replace("{" + name + "}", path)
        return text

    result = invoke(*map(fill, args), exit_code=1)
    said = " ".join(result.output.split())
    assert fill(message) in said and "Traceback" not in said
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_every_command_has_refusal_cases():
    from spacy_biobert.cli import app

    commands = {c.name for c in app.registered_commands} | {f"{g.name} build" for g in app.registered_groups}
    assert commands == set(CASES)
