"""NER with a dev-calibrated outside weight: ``calibrate_ner`` (what ``spacy biobert calibrate --component
biobert_ner`` runs) picks ``biobert_ner``'s ``outside_weight`` on all CDR dev documents, then the calibrated copy
and the model as trained are scored on test exactly as ``bench/bench_ner.py`` scores (same ``evaluate``).

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``):
    python bench/bench_ner_calibration.py bench/runs/ner1000/ours/model-best \
        --reference bench/results/ner_1000.json
Writes ``bench/results/ner_calibration.json`` and the BENCHMARKS.md section "NER: dev-calibrated outside weight".
"""
import argparse
import json
import sys
from pathlib import Path

import spacy
import torch
from spacy.tokens import DocBin

from bench_ner import evaluate
from common import ROOT, checkout_path, corpus_dir, machine, machine_line, pct, use_device, utc_now, write_section

from spacy_biobert.cli.calibrate import calibrate_ner
from spacy_biobert.cli.evaluate import gold_char_mentions

TITLE = "## NER: dev-calibrated outside weight"


def row(label: str, r: dict) -> str:
    return (f"| {label} | {pct(r['ents_p'])} / {pct(r['ents_r'])} / **{pct(r['ents_f'])}** | "
            + " | ".join(pct(r["ents_per_type"].get(t, {}).get("f")) for t in ("Chemical", "Disease")) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="a trained pipeline with biobert_ner")
    parser.add_argument("--reference", type=Path, help="bench_ner.py results of the same model's run (peer A's row)")
    parser.add_argument("--cdr", type=Path, default=ROOT / "assets" / "cdr")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "ner_calibration")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gpu-id", type=int, default=-1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ner_calibration.json")
    parser.add_argument("--benchmarks", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    use_device(args)
    args.work.mkdir(parents=True, exist_ok=True)
    corpus = corpus_dir(args.cdr, args.work, args.work / "log.txt")
    nlp = spacy.load(args.model)
    found = calibrate_ner(nlp, corpus / "dev.spacy")
    calibrated = args.work / "calibrated"
    nlp.to_disk(calibrated)
    gold_docs = list(DocBin().from_disk(corpus / "test.spacy").get_docs(nlp.vocab))
    gold_chars = gold_char_mentions(args.cdr / "test.pubtator.gz")
    test = {name: evaluate(path, gold_docs, gold_chars, args.batch_size)
            for name, path in (("as_trained", args.model), ("calibrated", calibrated))}
    reference = json.loads(args.reference.read_text(encoding="utf8")) if args.reference else {}
    results = {"date": utc_now(), "machine": machine(), "model": checkout_path(args.model),
               "settings": {"threads": args.threads, "gpu_id": args.gpu_id, "batch_size": args.batch_size},
               "weight": found.weight, "dev": {"calibrated": found.scores, "at_1.0": found.baseline_scores},
               "dev_docs": len(DocBin().from_disk(corpus / "dev.spacy")), "test": test,
               "peer_a": reference.get("peer_a"), "out": checkout_path(args.out)}
    args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf8")
    text = section(results, "python bench/bench_ner_calibration.py " + " ".join(sys.argv[1:]))
    write_section(args.benchmarks, text, TITLE)
    print(text)


def section(results: dict, command: str) -> str:
    """The BENCHMARKS.md section of one run."""
    weight, dev, test = results["weight"], results["dev"], results["test"]
    base, tuned = dev["at_1.0"], dev["calibrated"]
    lines = [
        TITLE, "",
        machine_line(results, command, results["settings"]["threads"]),
        f"`{results['model']}`: `biobert_ner`'s `outside_weight` (the O tag's probability is multiplied by it "
        f"before Viterbi decoding) chosen on all {results.get('dev_docs', 500)} CDR dev documents "
        f"by entity F: **{weight}** (dev P / R / F {pct(base['p'])} / {pct(base['r'])} / {pct(base['f'])} at 1.0 → "
        f"{pct(tuned['p'])} / {pct(tuned['r'])} / {pct(tuned['f'])}). Test scored as in bench_ner.py.", "",
        "| system | test P / R / F | Chemical F | Disease F |", "| --- | --- | --- | --- |",
        row("ours as trained (outside_weight 1.0)", test["as_trained"]),
        row(f"ours, dev-calibrated (outside_weight {weight})", test["calibrated"]),
        *([row("peer A, same run (from the reference results)", results["peer_a"])] if results.get("peer_a") else []),
        "", f"Raw results: `{results.get('out', 'bench/results/ner_calibration.json')}`.", "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
