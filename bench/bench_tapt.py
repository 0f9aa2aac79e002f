"""Domain-adaptive pretraining on CDR: NER trained from the original encoder against NER trained from the same
encoder after task-adaptive masked-LM pretraining (TAPT) on the CDR train + dev text (never test).

Both NER runs use ``configs/ner.cfg`` with the same reduced budget; dev and test F1 of ``model-last`` are scored
with ``spacy evaluate`` (training-time evaluation uses only the first 20 dev documents, to save time). Writes
``bench/results/tapt.json``; :func:`section` renders it (BENCHMARKS.md, NER topic).

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``):
    python bench/bench_tapt.py --tapt-steps 200 --tapt-batch-size 8 --ner-steps 150
"""
import argparse
import json
import sys
from pathlib import Path

import spacy
from spacy.tokens import DocBin

from common import ROOT, corpus_dir, machine, pct, run, spacy_train, utc_now

from spacy_biobert.models.encoder import EMBEDDED_ENCODER


def evaluate(model: Path, data: Path, out: Path, log: Path, gpu_id: int = -1) -> dict:
    """``spacy evaluate`` scores (ents_p/r/f, per type) of ``model`` on ``data``, with the wall time."""
    seconds = run([sys.executable, "-m", "spacy", "evaluate", str(model), str(data), "--output", str(out),
                   "--gpu-id", str(gpu_id)], log)
    scores = json.loads(out.read_text(encoding="utf8"))
    keep = {k: scores[k] for k in ("ents_p", "ents_r", "ents_f", "ents_per_type") if k in scores}
    return {**keep, "seconds": round(seconds, 1)}


def section(r: dict, title: str, intro: str, raw: str) -> str:
    """The BENCHMARKS.md section of one run: ``intro`` (command, machine), the pretraining, each arm's scores."""
    t, arms = r["tapt"], r["ner"]
    rows = [f"| {arm} | `{a['encoder']}` | {pct(a['dev']['ents_f'])} | {pct(a['test']['ents_p'])} / "
            f"{pct(a['test']['ents_r'])} / **{pct(a['test']['ents_f'])}** | {a['train_seconds'] / 60:.1f} min |"
            for arm, a in arms.items()]
    gain = {split: 100 * (arms["tapt"][split]["ents_f"] - arms["original"][split]["ents_f"]) for split in ("dev", "test")}
    return "\n".join([
        title, "",
        intro,
        f"Masked-LM pretraining (`{t['command']}`): {t['config']['steps']} steps of {t['config']['batch_size']} blocks "
        f"of {t['config']['max_length']} wordpieces ({t['epochs']:.1f} epochs over the {t['blocks']} blocks of CDR "
        f"train + dev text, {t['documents']} documents; never test), {t['wall_seconds']:.0f} s. Then `configs/ner.cfg` "
        f"trained {r['args']['ner_steps']} steps from each encoder, `model-last` scored with `spacy evaluate`.",
        "",
        "| encoder | folder | dev F | test P / R / F | NER training |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"Gain from task-adaptive pretraining: dev {gain['dev']:+.2f}, test {gain['test']:+.2f} F1 (goal: ≥ +1). "
        f"Raw results: `{raw}`.",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cdr", type=Path, default=ROOT / "assets" / "cdr")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "tapt")
    parser.add_argument("--base", default=EMBEDDED_ENCODER)
    parser.add_argument("--tapt-steps", type=int, default=200)
    parser.add_argument("--tapt-learn-rate", type=float, default=1e-4)
    parser.add_argument("--tapt-batch-size", type=int, default=8)
    parser.add_argument("--ner-steps", type=int, default=150)
    parser.add_argument("--ner-learn-rate", type=float, default=1e-4)
    parser.add_argument("--gpu-id", type=int, default=-1, help="pretrain, train and evaluate on this GPU (-1: CPU)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "tapt.json")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    log = args.work / "log.txt"
    corpus = corpus_dir(args.cdr, args.work, log)
    dev20 = corpus / "dev20.spacy"
    if not dev20.exists():
        docs = list(DocBin().from_disk(corpus / "dev.spacy").get_docs(spacy.blank("en").vocab))[:20]
        DocBin(docs=docs, store_user_data=True).to_disk(dev20)
    encoder = args.work / "tapt_encoder"
    tapt_cmd = [sys.executable, "-m", "spacy", "biobert", "pretrain-mlm", str(args.cdr / "train.pubtator.gz"),
                str(args.cdr / "dev.pubtator.gz"), str(encoder), "--base", args.base, "--steps", str(args.tapt_steps),
                "--batch-size", str(args.tapt_batch_size), "--learn-rate", str(args.tapt_learn_rate),
                "--gpu-id", str(args.gpu_id)]
    tapt_seconds = run(tapt_cmd, log)
    pretrain_log = json.loads((encoder / "pretrain_log.json").read_text(encoding="utf8"))
    results = {"date": utc_now(), "machine": machine(), "args": {k: str(v) for k, v in vars(args).items()},
               "tapt": {"command": " ".join(tapt_cmd[1:]), "wall_seconds": round(tapt_seconds, 1), **pretrain_log},
               "ner": {}}
    for arm, name in (("original", args.base), ("tapt", str(encoder))):
        output = args.work / f"ner_{arm}"
        overrides = {"paths.train": corpus / "train.spacy", "paths.dev": dev20,
                     "components.transformer.model.name": name, "training.max_steps": args.ner_steps,
                     "training.eval_frequency": args.ner_steps,
                     "training.optimizer.learn_rate.initial_rate": args.ner_learn_rate,
                     "training.optimizer.learn_rate.warmup_steps": max(1, args.ner_steps // 10)}
        device = {"gpu-id": args.gpu_id} if args.gpu_id >= 0 else {}
        train_seconds = spacy_train(ROOT / "configs" / "ner.cfg", output, {**overrides, **device}, log)
        results["ner"][arm] = {
            "encoder": name, "train_seconds": round(train_seconds, 1),
            "dev": evaluate(output / "model-last", corpus / "dev.spacy", args.work / f"{arm}_dev.json", log, args.gpu_id),
            "test": evaluate(output / "model-last", corpus / "test.spacy", args.work / f"{arm}_test.json", log,
                             args.gpu_id),
        }
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf8")
    print(json.dumps({arm: (r["dev"]["ents_f"], r["test"]["ents_f"]) for arm, r in results["ner"].items()}))


if __name__ == "__main__":
    main()
