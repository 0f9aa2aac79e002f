"""The BENCHMARKS.md tables of GPU training runs (the training jobs of bench/bench_gpu.py) from the JSON files they
brought back, for bench/report_topics.py.

The jobs run the CPU benchmarks' own scripts, so each job's JSON holds one or two systems; this merges the jobs of one
budget (a folder such as ``bench/results/gpu_waves/w600``) into one ``bench_rel`` / ``bench_ner`` result and renders
it with those scripts' own ``markdown`` (``bench_tapt``'s ``section`` for its job).
"""
import json
from pathlib import Path
from typing import Dict, Optional

import bench_ner
import bench_rel
import bench_tapt
from common import checkout_path

#: Relation jobs whose system is an ablation of another: job -> the key its system is shown under.
RENAMED = {"rel_v2_pair": "ours_gold_v2_pair", "rel_v2_lr10": "ours_gold_v2_lr10"}
NOTE = ("Run on the GPU machine by the training jobs of `bench/bench_gpu.py` (in parallel on one GPU, `--threads 2` "
        "each; the command above is the harness's, each job's own command is in its JSON); encoder: the embedded MiniLM "
        "packed by `bench/gpu/bundle.py` (weights rounded to fp16, loaded as fp32; word-embedding rows CDR cannot reach "
        "zeroed), so these figures compare with each other, not exactly with the CPU sections. Speeds and training "
        "times were taken while the wave's other jobs shared the GPU and the cores: they are not comparable between "
        "rows. Training logs: the wave's `logs_*.tgz` beside the JSON files.")


def with_note(section: str) -> str:
    """``section`` with :data:`NOTE` after its title and machine line."""
    lines = section.splitlines()
    return "\n".join(lines[:3] + [NOTE] + lines[3:]) + "\n"


def load(path: Path) -> Dict:
    return json.loads(path.read_text(encoding="utf8"))


def merged_relations(folder: Path) -> Optional[Dict]:
    """One ``bench_rel`` result from every relation job of ``folder`` (None if there is none)."""
    merged: Optional[Dict] = None
    for path in sorted(folder.glob("*.json")):
        result = load(path)
        if "systems" not in result:
            continue
        merged = merged or {**result, "systems": {}, "raw": checkout_path(folder)}
        for name, system in result["systems"].items():
            merged["systems"][RENAMED.get(path.stem, name)] = system
    if merged is not None:
        merged["targets"] = bench_rel.targets(merged["systems"])
        merged["settings"]["override"] = []  # per job: the ablation rows name theirs
    return merged


def relations(folder: Path, title: str, command: str) -> Optional[str]:
    """One ``bench_rel`` section from every relation job of ``folder`` (None if there is none)."""
    merged = merged_relations(folder)
    return None if merged is None else with_note(bench_rel.markdown({**merged, "title": title}, command))


def merged_ner(folder: Path) -> Optional[Dict]:
    """One ``bench_ner`` result from the ``ours`` and ``peer_a`` jobs of ``folder`` (None unless both ran)."""
    merged: Dict = {}
    for path in sorted(folder.glob("ner_*.json")):
        result = load(path)
        merged = {**result, **merged, **{k: result[k] for k in ("ours", "peer_a") if k in result}}
    if not {"ours", "peer_a"} <= set(merged):
        return None
    merged.update(out=checkout_path(folder))
    merged["targets"] = bench_ner.targets(merged)
    return merged


def ner(folder: Path, title: str, command: str) -> Optional[str]:
    """One ``bench_ner`` section from the ``ours`` and ``peer_a`` jobs of ``folder`` (None unless both ran)."""
    merged = merged_ner(folder)
    if merged is None:
        return None
    merged["title"] = title
    stopped = [k for k in ("ours", "peer_a") if merged[k].get("timed_out")]
    text = with_note(bench_ner.markdown(merged, command))
    if stopped:
        text += (f"\nStopped by `--train-timeout-s` before the last step: {', '.join(stopped)} (scored: the "
                 "`model-best` of its last evaluation; the training log in the wave's `logs_*.tgz` shows the step "
                 "reached).\n")
    return text


def tapt(folder: Path, title: str, command: str) -> Optional[str]:
    """The task-adaptive pretraining section of ``folder/tapt.json`` (None if absent): ``bench_tapt``'s own."""
    path = folder / "tapt.json"
    if not path.exists():
        return None
    r = load(path)
    return bench_tapt.section(r, title, f"Command: `{command}` — date: {r['date']}. Device: {r['machine'].get('gpu')}. {NOTE}",
                              checkout_path(path))
