"""Share of CDR mentions whose offsets miss token boundaries, per tokenizer (BENCHMARKS.md, NER topic).

Usage: python bench/bench_alignment.py [--cdr assets/cdr] [--out bench/results/alignment.json]
"""
import argparse
import json
import platform
from datetime import date
from pathlib import Path

import spacy

from spacy_biobert.corpus import ConversionStats, build_docs, read_pubtator

TOKENIZERS = {
    "spaCy default English": None,
    "scispaCy combined_rule_tokenizer": {"@tokenizers": "spacy_biobert.Tokenizer.v1", "split_joins": False},
    "spacy_biobert.Tokenizer.v1 (default)": {"@tokenizers": "spacy_biobert.Tokenizer.v1"},
}


def measure(cdr: Path) -> dict:
    """Return {tokenizer: {split: conversion summary}}."""
    results = {}
    for name, tokenizer in TOKENIZERS.items():
        nlp = spacy.blank("en", config={"nlp": {"tokenizer": tokenizer}} if tokenizer else {})
        results[name] = {}
        for split in ("train", "dev", "test"):
            stats = ConversionStats()
            build_docs(nlp, read_pubtator(cdr / f"{split}.pubtator.gz"), stats)
            results[name][split] = stats.as_dict()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cdr", type=Path, default=Path(__file__).resolve().parents[1] / "assets" / "cdr")
    parser.add_argument("--out", type=Path, default=Path("bench/results/alignment.json"))
    args = parser.parse_args()
    results = measure(args.cdr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"date": str(date.today()), "machine": platform.processor(), "results": results}, indent=2))
    print(table(results))


def table(results: dict) -> str:
    """The table of BENCHMARKS.md (NER topic): share (count) of misaligned mentions, collisions in test."""
    lines = ["| tokenizer | train | dev | test | token-level collisions (test) |", "| --- | --- | --- | --- | --- |"]
    for name, splits in results.items():
        cells = [f"{splits[s]['misaligned_pct']:.2f} % ({splits[s]['misaligned_expanded']})" for s in ("train", "dev", "test")]
        lines.append(f"| {name} | {' | '.join(cells)} | {sum(splits['test']['not_in_doc_ents'].values())} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
