"""The main job's closing summary: which model folder to use, what its dev scores mean, what to run next.

    python scripts/next_steps.py training/quick/model-calibrated --steps 80 --dev-docs 100
"""
import argparse
import json
from pathlib import Path

#: Measured wall time of `spacy project run all` stages on 2 CPU cores (BENCHMARKS.md "End to end").
ALL_WORKFLOW_COST = "about 35 s per training step of each stage on 2 CPU cores (two stages of max_steps steps)"


def summary(model: Path, steps: int, dev_docs: int) -> str:
    meta = json.loads((model / "meta.json").read_text(encoding="utf8"))
    lines = [f"Model folder: {model} (use it with spacy.load, `annotate` and `serve`)."]
    for name, cal in sorted(meta.get("calibration", {}).items()):
        if not cal.get("tuned", True):
            lines.append(f"{name}: threshold {cal['threshold']} NOT tuned: {cal['reason']}.")
            continue
        lines.append(
            f"{name}: threshold {cal['threshold']} chosen on {cal['dev_docs']} dev documents, {cal['entities']}: "
            f"dev CID P / R / F {100 * cal['dev_p']:.1f} / {100 * cal['dev_r']:.1f} / {100 * cal['dev_f']:.1f} "
            "(concept level: a chemical-disease pair of MeSH ids per document).")
    lines += [
        f"It trained for {steps} steps only (the main job's budget); its dev scores are from {dev_docs} dev "
        "documents, so expect a few points either way on other text. The shipped pipeline (`all`) is the one "
        "README and BENCHMARKS.md report.",
        "Next:",
        f"  annotate a file:  python -m spacy biobert annotate {model} abstracts.jsonl out/abstracts.jsonl",
        f"  serve it:         python -m spacy biobert serve {model} --port 8000",
        f"  the full pipeline: python -m spacy project run all  ({ALL_WORKFLOW_COST}; a GPU: --vars.gpu_id 0)",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--dev-docs", type=int, required=True)
    args = parser.parse_args()
    print(summary(args.model, args.steps, args.dev_docs))


if __name__ == "__main__":
    main()
