"""The figures of BENCHMARKS.md, drawn with matplotlib from bench/results/ (``bench/report.py`` calls them).

* learning curves: dev F at each evaluation of the 30-epoch H100 runs, read from the ``spacy train`` tables in the
  waves' training logs (``bench/results/gpu_waves/w1860/logs_*.tgz``), ours against the peer;
* speed against F1: CPU words/s and test F1 of each inference setting (``bench/results/speed.json``).

The end-to-end waterfall is ``bench_e2e.plot_waterfall``'s.
"""
import re
import tarfile
from pathlib import Path
from typing import Dict, List, Tuple

from common import ROOT

RESULTS = ROOT / "bench" / "results"
WAVES_1860 = RESULTS / "gpu_waves" / "w1860"
#: curve label -> (job folder inside a wave's logs, score column of the ``spacy train`` table)
NER_CURVES = {"ours: transformer + biobert_ner (configs/ner.cfg)": ("ner_ours", "ENTS_F"),
              "peer A: transformer + ner (stopped by its time limit)": ("ner_peer", "ENTS_F")}
REL_CURVES = {"ours: RelationModel.v2 (configs/rel.cfg)": ("rel_v2", "REL_CONCEPT_F"),
              "ours: RelationModel.v2 without local evidence": ("rel_v1", "REL_CONCEPT_F"),
              "peer: rel_component-style baseline": ("rel_base", "REL_CONCEPT_F")}


def train_table(log: str, column: str) -> List[Tuple[int, float]]:
    """(step, score) rows of the last ``spacy train`` table in ``log`` (scores as printed, 0-100)."""
    tables = log.split("E    #")
    if len(tables) < 2:
        return []
    header, *lines = tables[-1].splitlines()
    names = ["E", "#"] + re.split(r"\s{2,}", header.strip())
    index = names.index(column)
    rows = []
    for line in lines:
        cells = line.split()
        if len(cells) == len(names) and all(re.fullmatch(r"[\d.]+", c) for c in cells):
            rows.append((int(cells[1]), float(cells[index])))
    return rows


def wave_curves(folder: Path, curves: Dict[str, Tuple[str, str]]) -> Dict[str, List[Tuple[int, float]]]:
    """Each curve's (step, dev F) from the ``<job>/bench.log`` members of ``folder``'s ``logs_*.tgz``."""
    found: Dict[str, List[Tuple[int, float]]] = {}
    for archive in sorted(folder.glob("logs_*.tgz")):
        with tarfile.open(archive) as tar:
            for label, (job, column) in curves.items():
                try:
                    member = tar.extractfile(f"./{job}/bench.log")
                except KeyError:
                    continue
                rows = train_table(member.read().decode("utf8", "replace"), column)
                if rows:
                    found[label] = rows
    return found


def plot_curves(curves: Dict[str, List[Tuple[int, float]]], title: str, ylabel: str, path: Path,
                xlabel: str = "training steps", skip_zero: bool = True, legend_loc: str = "best") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.4))
    for label, rows in curves.items():
        rows = [(s, f) for s, f in rows if s > 0 or not skip_zero]
        ax.plot([s for s, _ in rows], [f for _, f in rows], marker="o", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc=legend_loc)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def learning_curves(out: Path) -> List[Path]:
    """``learning_curves_ner.png`` and ``learning_curves_rel.png`` in ``out``."""
    paths = [out / "learning_curves_ner.png", out / "learning_curves_rel.png"]
    plot_curves(wave_curves(WAVES_1860, NER_CURVES), "NER, 30 epochs on an H100 (embedded MiniLM)",
                "dev entity F", paths[0])
    plot_curves(wave_curves(WAVES_1860, REL_CURVES), "CID relations on gold entities, 30 epochs on an H100",
                "dev CID F (first 100 dev docs, t=0.5)", paths[1])
    return paths


def soak_rss(runs: List[Dict], path: Path) -> Path:
    """RSS of the server over completed requests, as growth since the first sample, one line per soak run."""
    curves = {}
    for run in runs:
        start = run["rss_samples"][0][1]
        label = f"{run['model'].split(' (')[0]}, {run['requests']:,} requests, {run['date']}"
        curves[label] = [(n, rss - start) for n, rss in run["rss_samples"]]
    plot_curves(curves, "Server soak: requests of never-seen words", "RSS growth since start, MiB", path,
                xlabel="requests answered", skip_zero=False, legend_loc="lower right")
    return path


def speed_f1(speed: Dict, path: Path) -> Path:
    """Words/s against test F1 for every row of ``speed.json`` that has both."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, row in enumerate(speed["rows"]):
        if "f" not in row:
            ax.axvline(row["words_per_s"], color="grey", linestyle="--", linewidth=1)
            ax.annotate(row["system"], (row["words_per_s"], 66), fontsize=7, rotation=90, ha="right", color="grey")
            continue
        ours = row["system"].startswith("ours")
        ax.scatter(row["words_per_s"], 100 * row["f"], marker="o" if ours else "s", color="C0" if ours else "C3")
        ax.annotate(row["system"].replace("ours, ", ""), (row["words_per_s"], 100 * row["f"]), fontsize=7,
                    xytext=(5, 4 if i % 2 else -10), textcoords="offset points")
    ax.set_xlabel("CPU words/s (CDR test, 2 cores)")
    ax.set_ylabel("test F1 (strict character offsets)")
    ax.set_title("NER inference settings: speed against F1")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path
