"""Relation stage trained on more data (issue 20's "final relation model on train + dev"), measured on dev:
``configs/rel.cfg`` trained on train, and on train + the first half of dev (dev A), with the same budget and
schedule, both scored on the second half (dev B), which neither saw, on the gold entities and ids (the relation
stage alone). Dev is cut as ``bench_ner_more_data`` cuts it.

With ``--end-to-end`` each arm is also measured as the shipped pipeline uses it: ``configs/e2e.cfg`` assembled
with an NER trained on train + dev A (``configs/ner.cfg``, ``--ner-steps``, or ``--ner-model``) and the linker on a
KB of the train + dev A mentions and MeSH-lite (no dev B mention), its relation MLP trained on the NER's predicted
entities over the training documents (``spacy biobert train-head``), its threshold and title bonus calibrated on dev
B end to end (``spacy biobert calibrate``): dev B end-to-end CID F, the same optimism for both arms.

Both arms keep ``model-last``. Each arm's threshold is the best one on dev B (the same optimism for both: the
shipped pipeline recalibrates its threshold end to end anyway), so dev B F compares how well each ranks the
candidate pairs; test is scored at that threshold, for the record (no choice is made on it).

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``):
    python bench/bench_rel_more_data.py --max-steps 600 --end-to-end
Writes ``bench/results/rel_more_data.json`` (BENCHMARKS.md: ``python bench/report.py``).
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import spacy
import torch

from spacy_biobert.corpus.readers import create_gold_ents_corpus
from spacy_biobert.models.encoder import EMBEDDED_ENCODER
from spacy_biobert.scoring import rel_threshold

from bench_ner_more_data import write_split
from bench_rel import concept_prf, predict
from common import ROOT, checkout_path, corpus_dir, log_line, machine, machine_line, pct, run, spacy_train, utc_now

TITLE = "## Relations: more training data"
ARMS = ("train", "train + dev A")
#: The file a finished training run leaves in its output folder.
TRAINED = "TRAINED"


def overrides(train: Path, dev: Path, args: argparse.Namespace) -> Dict[str, object]:
    """The budget both arms get: ``bench_rel``'s schedule (linear decay to ``--max-steps``, warm-up a tenth of
    it), one evaluation at the end on ``--dev-docs`` documents of dev B (``model-last`` is what is scored)."""
    return {
        "paths.train": train, "paths.dev": dev, "corpora.dev.limit": args.dev_docs,
        "components.transformer.model.name": args.encoder,
        "training.max_steps": args.max_steps, "training.eval_frequency": args.max_steps,
        "training.batcher.size": args.batch_words,
        "training.optimizer.learn_rate.initial_rate": args.learn_rate,
        "training.optimizer.learn_rate.warmup_steps": max(1, args.max_steps // 10),
    }


def scores(model: Path, dev_b: Path, test: Path, batch_size: int) -> Dict:
    """Concept-level CID P/R/F of ``model`` on the gold entities: the best threshold on dev B and its scores, and
    test at that threshold."""
    nlp = spacy.load(model)
    dev, _ = predict(nlp, list(create_gold_ents_corpus(dev_b)(nlp)), batch_size)
    threshold, tuned = rel_threshold.tune_threshold(dev)
    tested, _ = predict(nlp, list(create_gold_ents_corpus(test)(nlp)), batch_size)
    return {"docs": len(dev), "dev_b": {**tuned, "threshold": threshold}, "test": concept_prf(tested, threshold)}


def end_to_end(rel_models: Dict[str, Path], ner: Path, kb: Path, corpus: Path, dev_b: Path,
               args: argparse.Namespace, log: Path) -> Dict[str, Dict]:
    """Each relation stage in the shipped composition (assemble, train-head, calibrate on dev B end to end); return
    per arm the calibration the pipeline records (threshold, title bonus, dev B P / R / F) and the seconds taken."""
    python = [sys.executable, "-m", "spacy"]
    found = {}
    for arm, rel in rel_models.items():
        work = args.work / ("e2e_" + rel.parent.name)
        seconds = run(python + ["assemble", str(ROOT / "configs" / "e2e.cfg"), str(work / "assembled"),
                                "--paths.ner_model", str(ner), "--paths.rel_model", str(rel), "--paths.kb", str(kb)], log)
        seconds += run(python + ["biobert", "train-head", str(work / "assembled"), str(corpus / "train.spacy"),
                                 str(work / "head"), "--entities", "predicted", "--epochs", str(args.head_epochs)], log)
        seconds += run(python + ["biobert", "calibrate", str(work / "head"), str(dev_b), str(work / "calibrated"),
                                 "--kb", str(kb)], log)
        found[arm] = {**spacy.load(work / "calibrated").meta["calibration"]["biobert_rel"], "seconds": seconds}
    return found


def end_to_end_inputs(corpus: Path, train_dev_a: Path, dev_b: Path, args: argparse.Namespace,
                      log: Path) -> Tuple[Path, Path]:
    """The NER (``--ner-model``, else ``configs/ner.cfg`` trained on train + dev A) and the KB (train + dev A
    mentions, MeSH-lite) of :func:`end_to_end`."""
    kb = args.work / "kb_train_dev_a"
    run([sys.executable, "-m", "spacy", "biobert", "kb", "build", str(kb), "--corpus", str(corpus / "train.spacy"),
         "--corpus", str(args.work / "dev_a.spacy"), "--mesh"], log)
    if args.ner_model:
        return args.ner_model, kb
    ner = args.work / "ner_train_dev_a"
    train_once(ROOT / "configs" / "ner.cfg", ner, {
        "paths.train": train_dev_a, "paths.dev": dev_b, "training.max_steps": args.ner_steps,
        "training.eval_frequency": args.ner_steps}, log)
    return ner / "model-last", kb


def train_once(config: Path, output: Path, overrides: Dict[str, object], log: Path) -> Optional[float]:
    """:func:`common.spacy_train` unless an earlier run finished training into ``output`` (then None): a rerun
    goes on where one stopped; remove ``--work`` to train again. Finished means ``output/TRAINED`` is there,
    written after ``spacy train`` returned (``model-last`` alone is written from the first evaluation on)."""
    if (output / TRAINED).exists():
        log_line(log, f"{checkout_path(output)}: trained by an earlier run, reusing model-last")
        return None
    seconds = spacy_train(config, output, overrides, log)
    (output / TRAINED).write_text(f"{seconds:.1f} s\n", encoding="utf8")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "rel.cfg")
    parser.add_argument("--max-steps", type=int, default=600, help="the shipped relation stage's budget")
    parser.add_argument("--dev-docs", type=int, default=50, help="dev B documents of the one training-time evaluation")
    parser.add_argument("--batch-words", type=int, default=2000)
    parser.add_argument("--learn-rate", type=float, default=1e-4)
    parser.add_argument("--encoder", default=EMBEDDED_ENCODER)
    parser.add_argument("--cdr", type=Path, default=ROOT / "assets" / "cdr")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "rel_more_data")
    parser.add_argument("--end-to-end", action="store_true", help="also measure both arms end to end on dev B")
    parser.add_argument("--ner-model", type=Path, default=None,
                        help="the end-to-end NER (default: configs/ner.cfg trained on train + dev A in --work)")
    parser.add_argument("--ner-steps", type=int, default=500, help="the shipped NER's budget")
    parser.add_argument("--head-epochs", type=int, default=8, help="project.yml's head_epochs")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "rel_more_data.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    log = args.work / "log.txt"
    corpus = corpus_dir(args.cdr, args.work, log)
    train_dev_a, dev_b = write_split(corpus, args.work, log)
    data = {"train": corpus / "train.spacy", "train + dev A": train_dev_a}
    outputs = {arm: args.work / arm.replace(" + ", "_").replace(" ", "_") for arm in ARMS}
    train_s = {arm: train_once(args.config, outputs[arm], overrides(data[arm], dev_b, args), log) for arm in ARMS}
    results = {
        "date": utc_now(), "machine": machine(), "threads": args.threads,
        "command": "python bench/bench_rel_more_data.py " + " ".join(
            checkout_path(Path(a)) if Path(a).exists() else a for a in sys.argv[1:]),
        "config": checkout_path(args.config), "max_steps": args.max_steps, "train_s": train_s,
        "arms": {arm: scores(outputs[arm] / "model-last", dev_b, corpus / "test.spacy", args.batch_size)
                 for arm in ARMS},
    }
    if args.end_to_end:
        ner, kb = end_to_end_inputs(corpus, train_dev_a, dev_b, args, log)
        results["end_to_end"] = {"ner": checkout_path(ner), "ner_steps": None if args.ner_model else args.ner_steps,
                                 "head_epochs": args.head_epochs,
                                 "arms": end_to_end({arm: outputs[arm] / "model-last" for arm in ARMS}, ner, kb,
                                                    corpus, dev_b, args, log)}
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf8")
    print(section(results))


def section(results: Dict) -> str:
    """The BENCHMARKS.md section of one run."""
    arms = results["arms"]

    def prf(s: Dict) -> str:
        return f"{pct(s['p'])} / {pct(s['r'])} / **{pct(s['f'])}**"

    rows = [f"| {arm} | {prf(arms[arm]['dev_b'])} (t={arms[arm]['dev_b']['threshold']:g}) | {prf(arms[arm]['test'])} |"
            for arm in ARMS]
    gain = 100 * (arms["train + dev A"]["dev_b"]["f"] - arms["train"]["dev_b"]["f"])
    return "\n".join([
        TITLE, "",
        machine_line(results, results["command"], results["threads"]),
        f"`{results['config']}` trained for {results['max_steps']} steps on CDR train, and on train + the first half "
        f"of dev (dev A), same schedule and seed, `model-last` of each; both scored on the gold entities and ids of "
        f"the other {arms['train']['docs']} dev documents (dev B, seen by neither), each at its best threshold there. "
        f"Dev B CID F {gain:+.2f} with dev A in the training data. Test is scored at the dev B threshold, for the "
        "record only.", "",
        "| trained on | dev B P / R / F | test P / R / F |", "| --- | --- | --- |", *rows, "",
        *end_to_end_lines(results.get("end_to_end")),
        f"Raw results: `{checkout_path(ROOT / 'bench' / 'results' / 'rel_more_data.json')}`.", "",
    ])


def end_to_end_lines(e2e: Optional[Dict]) -> List[str]:
    """The section's end-to-end table (none when the run had no ``--end-to-end``)."""
    if not e2e:
        return []
    arms = e2e["arms"]
    ner = (f"`configs/ner.cfg` trained {e2e['ner_steps']} steps on train + dev A" if e2e["ner_steps"]
           else f"`{e2e['ner']}`")
    gain = 100 * (arms["train + dev A"]["dev_f"] - arms["train"]["dev_f"])
    rows = [f"| {arm} | {pct(a['dev_p'])} / {pct(a['dev_r'])} / **{pct(a['dev_f'])}** | {a['threshold']:g} | "
            f"{a['title_bonus']:g} |" for arm, a in arms.items()]
    return [
        f"End to end, each relation stage in the shipped composition (`configs/e2e.cfg`): the NER of {ner}, the "
        "linker on a KB of the train + dev A mentions and MeSH-lite, the relation MLP trained "
        f"{e2e['head_epochs']} epochs on the NER's predicted entities over the training documents, threshold and "
        f"title bonus calibrated on dev B end to end (the same optimism for both). Dev B CID F {gain:+.2f} with "
        "dev A in the relation stage's training data.", "",
        "| relation stage trained on | dev B end-to-end P / R / F | threshold | title bonus |",
        "| --- | --- | --- | --- |", *rows, "",
    ]


if __name__ == "__main__":
    main()
