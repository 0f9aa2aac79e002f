"""README.md, BENCHMARKS.md and docs/*.md: every code fence is closed and names its language (a stray fence turns
the rest of a page into code), no heading hides inside a code block, no machine path, relative links resolve, and
the commands they show exist: each ``spacy biobert`` command with the options shown (its ``--help``), each project
command and variable, each config, script and ``make`` target."""
import re
import runpy
import shlex
import sys
from pathlib import Path

import pytest
import srsly
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = ("bash", "sh", "console")


def fences(page: Path):
    return [t for t in MarkdownIt("commonmark").parse(page.read_text(encoding="utf8")) if t.type == "fence"]


def shown_commands():
    """(page, command words) of every command line in the shell blocks (continuations joined, comments cut)."""
    found = []
    for page in PAGES:
        for fence in fences(page):
            if fence.info.split()[0] not in SHELL:
                continue
            for line in fence.content.replace("\\\n", " ").splitlines():
                line = line.split("  #")[0].split(" # ")[0].strip()
                if line and not line.startswith("#"):
                    found.append((page.name, shlex.split(line.replace("[", " ").replace("]", " "))))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_fences_are_closed_and_named(page):
    lines = page.read_text(encoding="utf8").splitlines()
    for fence in fences(page):
        start, end = fence.map
        assert fence.info.strip(), f"{page.name}:{start + 1}: a fence without a language (a stray fence?)"
        closing = lines[end - 1].strip() if end - 1 > start else ""
        assert closing.startswith(fence.markup) and not closing.strip("`~"), f"{page.name}:{start + 1}: unclosed fence"
        assert not re.search(r"^#{2,4} [A-Z]", fence.content, flags=re.M), \
            f"{page.name}:{start + 1}: a Markdown heading inside a code block (a stray fence?)"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_machine_paths_and_relative_links_resolve(page):
    text = page.read_text(encoding="utf8")
    assert not re.search(r"(?<![\w./-])/(tmp|work|root|home)/\w", text), f"{page.name}: a machine path"
    text = re.sub(r"<!-- WEASEL: AUTO-GENERATED DOCS START.*?AUTO-GENERATED DOCS END[^>]*-->", "", text, flags=re.S)
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not re.match(r"\w+://", target):
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


def biobert_help(words):
    """``--help`` of ``spacy biobert WORDS…`` (the words that name the command) and the options shown."""
    from typer.testing import CliRunner

    from spacy_biobert.cli import app

    names = []
    for word in words:
        if word.startswith("-") or not re.fullmatch(r"[a-z][a-z-]*", word) or len(names) == 2:
            break
        names.append(word)
    result = CliRunner().invoke(app, [*names, "--help"], env={"COLUMNS": "200"}, prog_name="spacy biobert")
    return names, result


def test_spacy_biobert_commands_and_their_options_exist():
    shown = [(page, words[4:]) for page, words in shown_commands() if words[:4] == ["python", "-m", "spacy", "biobert"]]
    assert len(shown) >= 10
    for page, words in shown:
        names, result = biobert_help(words)
        assert result.exit_code == 0, f"{page}: spacy biobert {' '.join(names)}: {result.output[-500:]}"
        for option in (w.split("=")[0] for w in words if w.startswith("--") and w != "--help"):
            assert option in result.output, f"{page}: spacy biobert {' '.join(names)} has no {option}"


def test_project_commands_configs_and_make_targets_exist():
    project = srsly.read_yaml(ROOT / "project.yml")
    runnable = {c["name"] for c in project["commands"]} | set(project["workflows"])
    make = re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(encoding="utf8"), flags=re.M)
    for page, words in shown_commands():
        if words[:5] == ["python", "-m", "spacy", "project", "run"]:
            assert words[5] in runnable, f"{page}: no project command {words[5]}"
            for var in (w.split("=")[0][len("--vars."):] for w in words if w.startswith("--vars.")):
                assert var in project["vars"], f"{page}: no project variable {var}"
        if words[:4] == ["python", "-m", "spacy", "train"] or words[:4] == ["python", "-m", "spacy", "assemble"]:
            assert (ROOT / words[4]).is_file(), f"{page}: no config {words[4]}"
        if words[:1] == ["make"]:
            assert words[1] in make, f"{page}: no make target {words[1]}"


def test_scripts_shown_take_the_options_shown(monkeypatch, capsys):
    scripts = [(page, words[1:]) for page, words in shown_commands()
               if len(words) > 1 and words[0] == "python" and words[1].endswith(".py")]
    assert scripts
    for folder in ("bench", "bench/gpu", "scripts"):
        monkeypatch.syspath_prepend(str(ROOT / folder))
    for page, (script, *args) in scripts:
        monkeypatch.setattr(sys, "argv", [script, "--help"])
        with pytest.raises(SystemExit) as stop:
            runpy.run_path(str(ROOT / script), run_name="__main__")
        out = capsys.readouterr().out
        assert stop.value.code == 0, f"{page}: {script} --help failed"
        for option in (a for a in args if a.startswith("--")):
            assert option in out, f"{page}: {script} has no {option}"
