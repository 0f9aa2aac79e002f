"""What the relation head adds to inference time: an end-to-end pipeline (NER, linker, ``biobert_rel``) against
the same pipeline with ``biobert_rel`` disabled, on the CDR test texts, alternating passes, best of ``--repeats``.

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``):
    python bench/bench_rel_cost.py MODEL [--repeats 3]
Writes ``bench/results/rel_cost.json`` and the BENCHMARKS.md section "Relation head: inference cost".
"""
import argparse
import json
import sys
from pathlib import Path

import spacy
import torch
from spacy.tokens import DocBin

from bench_rel import speed
from common import ROOT, corpus_dir, machine, machine_line, use_device, utc_now, write_section

TITLE = "## Relation head: inference cost"
TARGET = 0.10  # the relation head adds at most 10 % to the NER pipeline's inference time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="a pipeline with biobert_ner and biobert_rel")
    parser.add_argument("--cdr", type=Path, default=ROOT / "assets" / "cdr")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "rel_cost")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gpu-id", type=int, default=-1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "rel_cost.json")
    parser.add_argument("--benchmarks", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    use_device(args)
    args.work.mkdir(parents=True, exist_ok=True)
    corpus = corpus_dir(args.cdr, args.work, args.work / "log.txt")
    nlp = spacy.load(args.model)
    texts = [doc.text for doc in DocBin().from_disk(corpus / "test.spacy").get_docs(nlp.vocab)]
    result = speed(nlp, texts, args.batch_size, args.repeats)
    added = result["ner_alone_words_per_s"] / result["joint_words_per_s"] - 1
    results = {"date": utc_now(), "machine": machine(), "model": str(args.model), "pipeline": nlp.pipe_names,
               "settings": {"threads": args.threads, "gpu_id": args.gpu_id, "batch_size": args.batch_size},
               "docs": len(texts), **result, "added": added, "target_met": added <= TARGET}
    args.out.write_text(json.dumps(results, indent=2), encoding="utf8")
    text = section(results, "python bench/bench_rel_cost.py " + " ".join(sys.argv[1:]))
    write_section(args.benchmarks, text, TITLE)
    print(text)


def section(results: dict, command: str) -> str:
    """The BENCHMARKS.md section of one run."""
    added = results["added"]
    return "\n".join([
        TITLE, "",
        machine_line(results, command, results["settings"]["threads"]),
        f"Pipeline `{results['model']}` ({', '.join(results['pipeline'])}) over the {results['docs']} CDR test "
        f"abstracts ({results['words']} words), batch {results['settings']['batch_size']}; the whole pipeline and the "
        f"same pipeline with `biobert_rel` disabled, passes alternating, best of {results['repeats']} each.", "",
        "| pipeline | words/s |", "| --- | --- |",
        f"| with biobert_rel | {results['joint_words_per_s']:.0f} |",
        f"| without biobert_rel | {results['ner_alone_words_per_s']:.0f} |", "",
        f"The relation head adds {100 * added:+.1f} % to inference time (target ≤ +10 %: "
        f"{'met' if added <= TARGET else 'NOT met'}). Raw results: `bench/results/rel_cost.json`.", "",
    ])


if __name__ == "__main__":
    main()
