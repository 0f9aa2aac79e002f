"""The main job's closing summary: which model folder to use, what its dev scores mean, what to run next.

    python scripts/next_steps.py training/quick/model-calibrated --steps 80 --dev-docs 100
"""
import argparse
import json
from pathlib import Path

#: What `all` costs on CPU, as measured for BENCHMARKS.md "End to end" (2 cores): the NER stage ran 500 steps in
#: 68 min and the relation stage 600 steps in 74 min (cores shared with other work), the NER on train + dev 500 steps
#: in 25 min (alone); `all` trains each stage up to max_steps, the final NER ner_final_steps.
ALL_WORKFLOW_COST = ("hours on 2 CPU cores: measured 500 NER steps in 68 min and 600 relation steps in 74 min on "
                     "shared cores, the NER again on train + dev in 25 min alone; each stage trains up to "
                     "vars.max_steps")


def summary(model: Path, steps: int, dev_docs: int) -> str:
    meta = json.loads((model / "meta.json").read_text(encoding="utf8"))
    lines = [f"Model folder: {model} (use it with spacy.load, `annotate` and `serve`)."]
    for name, done in sorted(meta.get("head_training", {}).items()):
        entities = f" for the {done['entities']} entities" if "entities" in done else ""
        lines.append(f"{name}: trained {done['epochs']} epochs on the transformer's outputs{entities} over {done['docs']} "
                     f"training documents ({done['pairs']} candidate pairs, {done['positives']} of them relations).")
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
