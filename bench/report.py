"""Render BENCHMARKS.md whole from bench/results/: a summary table first, then one section per topic (NER,
entity linking, relations, end to end, speed and memory, serving, GPU) and the figures.

Every table is drawn by the benchmark script that measured it (its own ``markdown`` / ``section`` function); this
module picks the runs (:mod:`report_topics`), states each topic's method once (the scripts' per-run method lines
are left out), removes machine paths, and draws the figures (:mod:`report_figures`, ``bench_e2e.plot_waterfall``).

Usage: ``python bench/report.py`` (writes BENCHMARKS.md and the figures in bench/results/);
``--no-figures`` writes the text only; ``--check`` exits 1 when BENCHMARKS.md differs from the rendering.
"""
import argparse
import json
import re
import sys
from pathlib import Path
from typing import Callable, Iterable, List, Optional

BENCH = Path(__file__).resolve().parent
for folder in (BENCH / "gpu", BENCH):  # the scripts import their neighbours by name
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from common import ROOT  # noqa: E402

RESULTS = ROOT / "bench" / "results"
#: Lines of the scripts' sections that state the method or the run (the topic states them once).
METHOD_LINES = ("Command:", "CDR (BioCreative V), chemical-induced", "Both systems: encoder", "Run on the GPU machine",
                "Both systems run the same encoder", "Candidate recall: test recall", "Extra config overrides",
                "Every variant:", "How to read it", "Raw results:", "Targets")
#: Absolute paths of the machines that ran a benchmark: their first two folders go (``/tmp/gpu_work/x`` -> ``x``).
MACHINE_PATH = re.compile(r"(?<![\w./-])/(?:tmp|work|root|home|mnt|scratch)/[^/\s`'\"|)]+/")


def load(name: str) -> dict:
    """``bench/results/<name>`` as JSON."""
    return json.loads((RESULTS / name).read_text(encoding="utf8"))


def scrub(text: str) -> str:
    """``text`` without machine paths: each absolute path keeps what follows its first two folders."""
    return MACHINE_PATH.sub("", text)


def body(section: Optional[str], keep: Iterable[str] = ()) -> List[str]:
    """A script's section without its title and its method/run lines (those starting with
    :data:`METHOD_LINES`, except the prefixes in ``keep``), blank runs collapsed."""
    if not section:
        return []
    drop = tuple(p for p in METHOD_LINES if p not in set(keep))
    lines: List[str] = []
    for line in section.strip("\n").splitlines()[1:]:
        if line.startswith(drop) or (not line.strip() and (not lines or not lines[-1].strip())):
            continue
        lines.append(line)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def run(label: str, command: str, raw: str, section: Callable[[], Optional[str]], keep: Iterable[str] = (),
        after: Iterable[str] = ()) -> List[str]:
    """A run inside a topic: ``### label``, its command and results file, the script's tables, ``after``."""
    return [f"### {label}", "", f"`{command}` · results: `{raw}`", "", *body(section(), keep), *after, ""]


def render() -> str:
    """The whole BENCHMARKS.md."""
    import report_topics

    lines = ["# Benchmarks", "", report_topics.INTRO, "", *report_topics.summary(), ""]
    for topic in report_topics.TOPICS:
        lines += topic() + [""]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"
    return scrub(text)


def figures() -> List[Path]:
    """Draw every figure into bench/results/; return their paths."""
    import report_figures

    paths = report_figures.learning_curves(RESULTS)
    paths.append(report_figures.speed_f1(load("speed.json"), RESULTS / "speed_f1.png"))
    paths.append(report_figures.soak_rss(load("server_soak.json"), RESULTS / "server_soak.png"))
    if (RESULTS / "e2e.json").exists():
        import bench_e2e

        bench_e2e.plot_waterfall(load("e2e.json"), RESULTS / "e2e_waterfall.png")
        paths.append(RESULTS / "e2e_waterfall.png")
    return paths


def write(path: Path = ROOT / "BENCHMARKS.md", draw: bool = True) -> None:
    """Render BENCHMARKS.md into ``path`` (and the figures unless ``draw`` is false)."""
    if draw:
        figures()
    path.write_text(render(), encoding="utf8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--no-figures", action="store_true", help="write the text only")
    parser.add_argument("--check", action="store_true", help="exit 1 if --out differs from the rendering")
    args = parser.parse_args()
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf8") == render()
        print("up to date" if same else f"{args.out} differs from the rendering: run python bench/report.py")
        sys.exit(0 if same else 1)
    write(args.out, draw=not args.no_figures)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
