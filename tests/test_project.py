"""The user path of issue 5, on the tiny model: `spacy project run quick`, then package -> fresh venv -> load.

Marked slow (several minutes: a fresh virtual environment is created); run with `python -m pytest --runslow`.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys, spacy
from spacy_biobert.cli.annotate import SAMPLE_ABSTRACT
nlp = spacy.load(sys.argv[1])
out = []
for doc in nlp.pipe([SAMPLE_ABSTRACT, "Lithium-induced tremor.", ""]):
    group = doc.spans.get("biobert_ner")
    out.append({
        "ents": [(e.start_char, e.end_char, e.label_, e.kb_id_) for e in doc.ents],
        "links": sorted([list(k), [list(c) for c in v]] for k, v in doc._.biobert_link_candidates.items()),
        "scores": [float(s) for s in group.attrs["scores"]] if group is not None else None,
        "concept": sorted([list(k) + [v] for k, v in doc._.biobert_concept_relations.items()]),
        "mention": [(r.head.start, r.tail.start, r.label, r.score) for r in doc._.biobert_relations],
    })
print(json.dumps(out))
"""


def run(cmd, cwd, env=None):
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{cmd}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def quick_project(tmp_path_factory, tiny_bert):
    work = tmp_path_factory.mktemp("project")
    for name in ("project.yml", "configs", "scripts", "assets"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name)
    spacy_cli = [sys.executable, "-m", "spacy", "project", "run"]
    overrides = [f"--vars.encoder={tiny_bert}", "--vars.quick_steps=4"]
    output = run(spacy_cli + ["quick", "."] + overrides, cwd=work)
    return work, output


@pytest.mark.slow
def test_quick_workflow_prints_entities_and_relations(quick_project):
    work, output = quick_project
    assert (work / "corpus" / "test.spacy").exists()
    from spacy_biobert.cli.annotate import SAMPLE_ABSTRACT, report

    nlp = spacy.load(work / "training" / "quick" / "model-calibrated")
    doc = nlp(SAMPLE_ABSTRACT)
    printed = report(doc, nlp)  # entities, relations and every scored candidate pair of the calibrated pipeline
    assert printed in output
    assert "Candidate relations scored by biobert_rel" in printed


@pytest.mark.slow
def test_packaged_wheel_installs_in_fresh_venv_and_matches(quick_project, tmp_path):
    """The wheel (linker KB inside) installs offline-loadable and gives identical entities, ids and relations."""
    work, _ = quick_project
    model = work / "training" / "quick" / "model-last"
    packages = tmp_path / "packages"
    packages.mkdir()
    run([sys.executable, "-m", "spacy", "package", str(model), str(packages), "--name", "biobert_tiny",
         "--version", "0.0.1", "--build", "wheel", "--force"], cwd=tmp_path)
    (wheel,) = packages.glob("*/dist/*.whl")
    meta = json.loads(next(packages.glob("*/meta.json")).read_text())
    assert any(req.startswith("spacy-biobert") for req in meta["requirements"])
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(ROOT)], cwd=tmp_path)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    py = str(venv / "bin" / "python")
    cpu_index = ["--extra-index-url", "https://download.pytorch.org/whl/cpu", "torch==2.13.0"]
    pip_env = {**os.environ, "PIP_RETRIES": "0", "PIP_TIMEOUT": "20"}  # an unreachable CPU index fails fast
    run([py, "-m", "pip", "install", "-q", "--find-links", str(dist), str(wheel)] + cpu_index, tmp_path, pip_env)
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    installed = run([py, str(probe), "en_biobert_tiny"], cwd=tmp_path, env=env)
    before = run([sys.executable, str(probe), str(model)], cwd=tmp_path, env=env)
    assert json.loads(installed) == json.loads(before)
    assert installed.strip() == before.strip()


def test_every_dependency_of_the_main_job_exists_in_a_fresh_checkout():
    """The quick workflow's first step reads only what the repository ships (no ../shared, no download)."""
    from weasel.util import load_project_config

    config = load_project_config(ROOT)
    commands = {cmd["name"]: cmd for cmd in config["commands"]}
    first = commands[config["workflows"]["quick"][0]]
    assert first["deps"] and all((ROOT / dep).exists() for dep in first["deps"]), first["deps"]


def project_commands():
    from weasel.util import load_project_config

    config = load_project_config(ROOT)
    return config, {cmd["name"]: cmd for cmd in config["commands"]}


def test_calibrate_rel_tunes_train_rels_model_on_dev_into_a_copy():
    config, commands = project_commands()
    names = [cmd["name"] for cmd in config["commands"]]
    assert names.index("calibrate-rel") == names.index("train-rel") + 1
    (script,) = commands["calibrate-rel"]["script"]
    assert script.startswith("python -m spacy biobert calibrate training/rel/model-best corpus/dev.spacy "
                             "training/rel/model-calibrated --gold-entities")
    assert "test" not in script and commands["calibrate-rel"]["outputs"] == ["training/rel/model-calibrated"]


def test_train_rel_final_trains_on_copies_of_train_and_dev_and_reads_both(tmp_path):
    """final_steps (the dev-chosen step count) sets the budget; the folder the first step fills is read as one
    corpus."""
    from weasel.util import load_project_config

    from spacy_biobert.corpus.readers import create_gold_ents_corpus
    from tests.util import REL_TOY, rel_reference, write_docbin

    config, commands = project_commands()
    combine, train = commands["train-rel-final"]["script"]
    assert combine == "python scripts/combine_corpus.py corpus/train_dev corpus/train.spacy corpus/dev.spacy"
    assert "configs/rel.cfg" in train and "--paths.train corpus/train_dev --paths.dev corpus/dev.spacy" in train
    assert f"--training.max_steps {config['vars']['final_steps']} " in train
    overridden = load_project_config(ROOT, overrides={"vars.max_steps": 7, "vars.final_steps": 5})
    assert "--training.max_steps 5 " in {c["name"]: c for c in overridden["commands"]}["train-rel-final"]["script"][1]
    nlp = spacy.blank("en")
    for split, row in zip(("train", "dev"), REL_TOY):
        write_docbin(tmp_path / f"{split}.spacy", [rel_reference(nlp, *row)])
    out = tmp_path / "corpus" / "train_dev"
    out.mkdir(parents=True)
    write_docbin(out / "stale.spacy", [nlp.make_doc("A stale split .")])
    run([sys.executable, str(ROOT / "scripts" / "combine_corpus.py"), out, tmp_path / "train.spacy",
         tmp_path / "dev.spacy"], cwd=tmp_path)
    assert sorted(p.name for p in out.iterdir()) == ["dev.spacy", "train.spacy"]
    assert not any(p.is_symlink() for p in out.iterdir())
    texts = [eg.reference.text for eg in create_gold_ents_corpus(out)(nlp)]
    assert sorted(texts) == sorted(row[0] for row in REL_TOY)


def test_train_ner_final_trains_ner_cfg_on_train_and_dev_for_the_dev_chosen_steps():
    from weasel.util import load_project_config

    config, commands = project_commands()
    combine, train = commands["train-ner-final"]["script"]
    assert combine == commands["train-rel-final"]["script"][0]
    assert "configs/ner.cfg" in train and "--paths.train corpus/train_dev --paths.dev corpus/dev.spacy" in train
    assert f"--training.max_steps {config['vars']['ner_final_steps']} " in train and "test" not in train
    overridden = load_project_config(ROOT, overrides={"vars.ner_final_steps": 5})
    assert "--training.max_steps 5 " in {c["name"]: c for c in overridden["commands"]}["train-ner-final"]["script"][1]


def test_tapt_pretrains_on_train_and_dev_text_only_and_ner_tapt_trains_from_it():
    """Task-adaptive pretraining never sees the test set; the NER of the ner-tapt workflow starts from its output."""
    from weasel.util import load_project_config

    config = load_project_config(ROOT)
    commands = {cmd["name"]: cmd for cmd in config["commands"]}
    tapt = " ".join(commands["tapt"]["script"])
    variables = config["vars"]
    assert "pretrain-mlm" in tapt and variables["train_file"] in tapt and variables["dev_file"] in tapt
    assert variables["test_file"] not in tapt and "test" not in tapt.replace("tapt", "")
    assert commands["tapt"]["outputs"] == ["training/tapt_encoder"]
    train = " ".join(commands["train-ner-tapt"]["script"])
    assert "configs/ner.cfg" in train and "--components.transformer.model.name training/tapt_encoder" in train
    assert config["workflows"]["ner-tapt"] == ["convert", "tapt", "train-ner-tapt", "evaluate-ner-tapt"]


def workflow_order_is_sound(config, commands, workflow, after=None):
    """Every step's deps that another command makes were made by an earlier step of ``workflow`` (or of the
    workflow ``after``, run before it)."""
    made_by_others = {out for cmd in commands.values() for out in cmd.get("outputs", [])}
    produced = {out for step in config["workflows"].get(after, []) for out in commands[step].get("outputs", [])}
    for step in config["workflows"][workflow]:
        assert all(dep in produced for dep in commands[step].get("deps", []) if dep in made_by_others), step
        produced.update(commands[step].get("outputs", []))


def test_all_builds_calibrates_packages_and_annotates_the_shipped_e2e_pipeline():
    """`all` trains the two stages, assembles configs/e2e.cfg with the full KB, trains its relation head on the
    predicted entities of the training documents, calibrates it on dev end to end
    (linking with the KB without dev mentions), puts the NER trained on train + dev in, and every later step uses
    that one pipeline."""
    config, commands = project_commands()
    assert config["workflows"]["all"] == ["convert", "train-ner", "train-rel", "kb", "assemble", "train-head",
                                          "calibrate", "train-ner-final", "finalize", "evaluate", "package",
                                          "annotate"]
    workflow_order_is_sound(config, commands, "all")
    kb_train, kb = commands["kb"]["script"]
    assert "kb build training/kb_train --corpus corpus/train.spacy --mesh" in kb_train and "dev" not in kb_train
    assert "kb build training/kb --corpus corpus/train.spacy --corpus corpus/dev.spacy --mesh" in kb
    (assemble,) = commands["assemble"]["script"]
    assert "spacy assemble configs/e2e.cfg training/e2e_assembled" in assemble and "--paths.kb training/kb" in assemble
    (head,) = commands["train-head"]["script"]
    assert "train-head training/e2e_assembled corpus/train.spacy training/e2e_head --entities predicted" in head
    assert "dev" not in head and "test" not in head
    (calibrate,) = commands["calibrate"]["script"]
    assert "calibrate training/e2e_head corpus/dev.spacy training/e2e_calibrated --kb training/kb_train" in calibrate
    assert "--gold-entities" not in calibrate and "test" not in calibrate
    (finalize,) = commands["finalize"]["script"]  # the NER trained on train + dev replaces the train-only one
    assert finalize == ("python scripts/replace_components.py training/e2e_calibrated training/ner_final/model-last "
                        "training/e2e --component transformer --component biobert_ner")
    assert "evaluate training/e2e corpus/test.spacy" in commands["evaluate"]["script"][0]
    assert "package training/e2e " in commands["package"]["script"][0]
    assert commands["annotate"]["script"] == ["python -m spacy biobert annotate training/e2e"]


def test_ablations_train_the_one_encoder_variants_with_the_shipped_kb():
    config, commands = project_commands()
    workflow_order_is_sound(config, commands, "ablations")
    frozen = " ".join(commands["train-e2e-frozen"]["script"])
    assert "spacy train configs/e2e_frozen.cfg" in frozen and "--paths.ner_model training/ner/model-best" in frozen
    assert "--initialize.components.biobert_linker.kb_path training/kb " in frozen
    assert config["workflows"]["ablations"][-1] == "evaluate-ablations"


def test_one_encoder_builds_both_one_encoder_compositions_from_the_shipped_stages():
    """The frozen-encoder head, then the encoder trained on for both heads (configs/e2e_joint.cfg): each assembled
    as the shipped pipeline is, its head fitted on predicted entities and calibrated on dev with the KB without dev
    mentions; nothing reads the test set."""
    config, commands = project_commands()
    assert config["workflows"]["one-encoder"][-4:] == ["train-e2e-joint", "assemble-e2e-joint", "train-head-e2e-joint",
                                                       "calibrate-e2e-joint"]
    workflow_order_is_sound(config, commands, "one-encoder", after="all")
    (train,) = commands["train-e2e-joint"]["script"]
    assert "spacy train configs/e2e_joint.cfg --output training/e2e_joint_stage --paths.ner_model training/ner/model-best" in train
    assert f"--training.max_steps {config['vars']['e2e_joint_steps']} " in train
    (assemble,) = commands["assemble-e2e-joint"]["script"]
    stage = "training/e2e_joint_stage/model-last"
    assert f"--paths.ner_model {stage} --paths.rel_model {stage}" in assemble
    assert assemble.endswith("--components.biobert_rel.replace_listeners []")
    (head,) = commands["train-head-e2e-joint"]["script"]
    assert "--entities predicted" in head and "dev" not in head
    (calibrate,) = commands["calibrate-e2e-joint"]["script"]
    assert "corpus/dev.spacy training/e2e_joint --kb training/kb_train" in calibrate
    assert not any("test" in cmd for step in config["workflows"]["one-encoder"] for cmd in commands[step]["script"])


def test_quick_calibrates_on_dev_with_the_kb_without_dev_mentions_and_ends_with_next_steps(tmp_path):
    config, commands = project_commands()
    assert config["workflows"]["quick"] == ["convert", "kb", "train-quick", "train-head-quick", "calibrate-quick",
                                            "annotate-quick"]
    workflow_order_is_sound(config, commands, "quick")
    (train,) = commands["train-quick"]["script"]
    assert "--initialize.components.biobert_linker.kb_path training/kb" in train  # the MeSH-backed KB
    (head,) = commands["train-head-quick"]["script"]
    assert "train-head training/quick/model-last corpus/train.spacy training/quick/model-head --entities predicted" in head
    assert "dev" not in head and "test" not in head
    (calibrate,) = commands["calibrate-quick"]["script"]
    assert "calibrate training/quick/model-head " in calibrate and "--kb training/kb_train" in calibrate and "--gold-entities" not in calibrate and "test" not in calibrate
    annotate, next_steps = commands["annotate-quick"]["script"]
    assert annotate == "python -m spacy biobert annotate training/quick/model-calibrated"
    model = tmp_path / "model"
    model.mkdir()
    (model / "meta.json").write_text(json.dumps({"calibration": {"biobert_rel": {
        "threshold": 0.15, "dev_docs": 100, "entities": "end to end", "dev_p": 0.4, "dev_r": 0.5, "dev_f": 0.4444}},
        "head_training": {"biobert_rel": {"epochs": 20, "docs": 500, "pairs": 11387, "positives": 523,
                                          "entities": "predicted"}}}))
    out = run([sys.executable, str(ROOT / "scripts" / "next_steps.py"), str(model), "--steps", "80",
               "--dev-docs", "100"], cwd=tmp_path)
    assert f"Model folder: {model}" in out and "threshold 0.15 chosen on 100 dev documents, end to end" in out
    assert "dev CID P / R / F 40.0 / 50.0 / 44.4" in out and "spacy project run all" in out
    assert ("biobert_rel: trained 20 epochs on the transformer's outputs for the predicted entities over 500 training "
            "documents") in out
