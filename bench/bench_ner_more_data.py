"""NER trained on more data (issue 20's "final models on train + dev"), measured on dev: ``configs/ner.cfg`` trained
on train + the first half of dev (dev A) at the shipped budget, against the train-only NER of that budget, both
scored on the second half (dev B), which neither saw; test is scored too, for the record (no choice is made on it).

A model trained on all of dev cannot be scored on dev: the half split is how the lever is measured before it is
used. Dev is cut by document order (first half A, second half B).

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``):
    python bench/bench_ner_more_data.py training/ner/model-best --max-steps 500 --eval-frequency 250
Writes ``bench/results/ner_more_data.json`` (BENCHMARKS.md: ``python bench/report.py``).
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import spacy
import torch
from spacy.tokens import Doc, DocBin

from bench_ner import evaluate
from common import ROOT, checkout_path, corpus_dir, machine, machine_line, pct, run, spacy_train, utc_now

from spacy_biobert.cli.evaluate import gold_char_mentions

TITLE = "## NER: more training data"


def halves(docs: List[Doc]) -> Tuple[List[Doc], List[Doc]]:
    """Dev cut in two by document order: (first half, second half)."""
    middle = (len(docs) + 1) // 2
    return docs[:middle], docs[middle:]


def write_split(corpus: Path, work: Path, log: Path) -> Tuple[Path, Path]:
    """``work/dev_a.spacy`` and ``work/dev_b.spacy``, and ``work/train_dev_a/`` (copies of train.spacy and
    dev_a.spacy, one training corpus as a folder, gathered by ``scripts/combine_corpus.py`` as ``train-ner-final``
    gathers train + dev); return the training folder and dev B."""
    vocab = spacy.blank("en").vocab
    dev_a, dev_b = halves(list(DocBin(store_user_data=True).from_disk(corpus / "dev.spacy").get_docs(vocab)))
    work.mkdir(parents=True, exist_ok=True)
    DocBin(docs=dev_a, store_user_data=True).to_disk(work / "dev_a.spacy")
    DocBin(docs=dev_b, store_user_data=True).to_disk(work / "dev_b.spacy")
    train = work / "train_dev_a"
    run([sys.executable, str(ROOT / "scripts" / "combine_corpus.py"), str(train), str(corpus / "train.spacy"),
         str(work / "dev_a.spacy")], log)
    return train, work / "dev_b.spacy"


def scores(model: Path, data: Path, pubtator: Path, batch_size: int) -> Dict:
    """``bench_ner.evaluate`` of ``model`` on the docs of ``data`` (no bare-encoder pass), strict character scores
    against their gold."""
    docs = list(DocBin().from_disk(data).get_docs(spacy.blank("en").vocab))
    ids = {doc._.biobert_doc_id for doc in docs}
    gold = {m for m in gold_char_mentions(pubtator) if m[0] in ids}
    return {"docs": len(docs), **evaluate(model, docs, gold, batch_size, encoder_pass=False)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline", type=Path, help="the train-only NER at the same budget")
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "ner.cfg")
    parser.add_argument("--max-steps", type=int, default=500, help="the shipped NER's budget")
    parser.add_argument("--eval-frequency", type=int, default=250)
    parser.add_argument("--cdr", type=Path, default=ROOT / "assets" / "cdr")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "ner_more_data")
    parser.add_argument("--no-train", action="store_true", help="score the model a previous run left in --work")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ner_more_data.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    log = args.work / "log.txt"
    corpus = corpus_dir(args.cdr, args.work, log)
    train, dev_b = write_split(corpus, args.work, log)
    output = args.work / "train_dev_a_model"
    train_s = None
    if not args.no_train:
        train_s = spacy_train(args.config, output, {
            "paths.train": train, "paths.dev": dev_b, "training.max_steps": args.max_steps,
            "training.eval_frequency": args.eval_frequency}, log)
    models = {"train": args.baseline, "train + dev A": output / "model-last"}
    results = {
        "date": utc_now(), "machine": machine(), "threads": args.threads,
        "command": "python bench/bench_ner_more_data.py " + " ".join(
            checkout_path(Path(a)) if Path(a).exists() else a for a in sys.argv[1:]),
        "config": checkout_path(args.config), "max_steps": args.max_steps, "train_s": train_s,
        "dev_b": {name: scores(m, dev_b, args.cdr / "dev.pubtator.gz", args.batch_size) for name, m in models.items()},
        "test": {name: scores(m, corpus / "test.spacy", args.cdr / "test.pubtator.gz", args.batch_size)
                 for name, m in models.items()},
    }
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf8")
    print(section(results))


def section(results: Dict) -> str:
    """The BENCHMARKS.md section of one run."""
    dev, test = results["dev_b"], results["test"]

    def row(name: str) -> str:
        return " | ".join([name] + [f"{pct(s[name]['ents_p'])} / {pct(s[name]['ents_r'])} / **{pct(s[name]['ents_f'])}**"
                                    for s in (dev, test)])

    docs = dev["train"]["docs"]
    gain = 100 * (dev["train + dev A"]["ents_f"] - dev["train"]["ents_f"])
    return "\n".join([
        TITLE, "",
        machine_line(results, results["command"], results["threads"]),
        f"`{results['config']}` trained for {results['max_steps']} steps on CDR train + the first half of dev (dev A), "
        f"against the train-only NER of the same budget; both scored on the other {docs} dev documents "
        f"(dev B, seen by neither). Dev B entity F {gain:+.2f} with dev A in the training data. Test is scored for "
        "the record only.", "",
        "| trained on | dev B P / R / F | test P / R / F |", "| --- | --- | --- |",
        "| " + row("train") + " |", "| " + row("train + dev A") + " |", "",
        f"Raw results: `{checkout_path(ROOT / 'bench' / 'results' / 'ner_more_data.json')}`.", "",
    ])


if __name__ == "__main__":
    main()
