"""Relations on CDR (chemical-induced disease, document level): biobert_rel against a rel_component baseline.

Three pipelines, trained on CDR train with the same encoder, tokenizer, batcher, optimizer schedule and number
of steps, ``model-best`` selected on (the first ``--dev-docs`` documents of) dev:

* **ours, gold entities** -- ``configs/rel.cfg``: ATLOP-style concept pooling (logsumexp), all concept pairs
  of the document;
* **baseline, gold entities** -- the same component configured like spaCy's ``rel_component`` tutorial:
  mean-pooled mention pair -> linear-ish MLP, pairs within one sentence, concept decision = max over its
  mention pairs (``pooling=mean``, ``scope=sentence``, ``aggregate=max``);
* **ours, end to end** -- ``configs/joint.cfg``: one transformer shared by ``biobert_ner`` and
  ``biobert_rel``, relations from predicted entities (exact-character-span rule for concept ids).

The decision threshold of each pipeline is tuned on the same dev documents; test concept-level CID P/R/F are
reported at the tuned threshold and at 0.5. Also: training wall time, and CPU inference words/s of the joint
pipeline against its NER part alone. Writes ``bench/results/rel.json`` and the "Relations" section of
``BENCHMARKS.md``.

Usage (heavy: wrap in the shared CPU lock):
    flock /tmp/spacy_biobert_cpu.lock python bench/bench_rel.py --max-steps 150
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import spacy
import torch
from spacy.training import Corpus, Example

import spacy_biobert  # noqa: F401
from spacy_biobert.corpus.readers import create_gold_ents_corpus
from spacy_biobert.models.encoder import EMBEDDED_ENCODER
from spacy_biobert.scoring.rel import score_relations

from common import (ROOT, SPLITS, argument_parser, convert_corpus, log_line, machine, machine_line, pct,
                    schedule_overrides, spacy_train, timed_pipe, utc_now, write_section)

TITLE = "## Relations"
THRESHOLDS = [round(0.05 * i, 2) for i in range(1, 20)]
TARGETS = {"gold_entities": 0.628, "end_to_end": 0.570}
BASELINE = {
    "components.biobert_rel.model.pooling": "mean",
    "components.biobert_rel.aggregate": "max",
    "components.biobert_rel.candidates.scope": "sentence",
}
SYSTEMS = {  # name -> (config, extra overrides, gold entities?)
    "ours_gold": ("rel.cfg", {}, True),
    "baseline_gold": ("rel.cfg", BASELINE, True),
    "ours_end_to_end": ("joint.cfg", {}, False),
}


def corpus_dir(cdr: Path, work: Path, log: Path) -> Path:
    """``corpus/`` of the checkout if it holds all splits, else convert CDR into ``work/corpus``."""
    if all((ROOT / "corpus" / f"{s}.spacy").exists() for s in SPLITS):
        return ROOT / "corpus"
    return convert_corpus(cdr, work / "corpus", log)


def train(name: str, corpus: Path, output: Path, args: argparse.Namespace, log: Path) -> float:
    """Train one system with the shared budget; return the wall time in seconds."""
    config, extra, _ = SYSTEMS[name]
    overrides = {
        "paths.train": corpus / "train.spacy",
        "paths.dev": corpus / "dev.spacy",
        "corpora.dev.limit": args.dev_docs,
        **schedule_overrides(args),
        "components.transformer.model.name": args.encoder,
        **extra,
        **dict(item.split("=", 1) for item in args.override),
    }
    return spacy_train(ROOT / "configs" / config, output, overrides, log)


def predict(nlp, examples: List[Example], batch_size: int) -> Tuple[List[Example], float]:
    """Run ``nlp`` with relation threshold 0 (every candidate scored); return examples and seconds."""
    nlp.get_pipe("biobert_rel").cfg["threshold"] = 0.0
    start = time.perf_counter()
    docs = list(nlp.pipe((eg.predicted for eg in examples), batch_size=batch_size))
    return [Example(doc, eg.reference) for doc, eg in zip(docs, examples)], time.perf_counter() - start


def concept_prf(examples: List[Example], threshold: float) -> Dict[str, float]:
    scores = score_relations(examples, threshold=threshold)
    return {"p": scores["rel_concept_p"] or 0.0, "r": scores["rel_concept_r"] or 0.0,
            "f": scores["rel_concept_f"] or 0.0, "threshold": threshold}


def evaluate(name: str, model: Path, corpus: Path, args: argparse.Namespace) -> Dict:
    """Tune the threshold on dev, score test (gold entities or end to end)."""
    nlp = spacy.load(model)
    gold = SYSTEMS[name][2]

    def read(split: str, limit: int = 0) -> List[Example]:
        path = corpus / f"{split}.spacy"
        reader = create_gold_ents_corpus(path, limit=limit) if gold else Corpus(path, limit=limit)
        return list(reader(nlp))

    dev, _ = predict(nlp, read("dev", args.dev_docs), args.batch_size)
    tuned = max((concept_prf(dev, t) for t in THRESHOLDS), key=lambda s: s["f"])
    test, seconds = predict(nlp, read("test", args.test_docs), args.batch_size)
    result = {"dev_tuned": tuned, "test": concept_prf(test, tuned["threshold"]), "test_at_0.5": concept_prf(test, 0.5),
              "test_candidate_recall": concept_prf(test, 0.0)["r"],
              "test_inference_s": seconds, "test_words": sum(len(eg.predicted) for eg in test)}
    if not gold:
        ents = nlp.get_pipe("biobert_ner").score(test)
        result["test_ner"] = {k: ents.get(k) for k in ("ents_p", "ents_r", "ents_f")}
        result["speed"] = speed(nlp, [eg.reference.text for eg in test][: args.speed_docs], args.batch_size)
    return result


def speed(nlp, texts: List[str], batch_size: int) -> Dict[str, float]:
    """CPU words/s of the whole joint pipeline and of its NER part alone, on the same texts."""
    n_words = sum(len(nlp.make_doc(text)) for text in texts)
    out = {"words": n_words}
    for label, disable in (("joint", []), ("ner_alone", ["biobert_rel"])):
        with nlp.select_pipes(disable=disable):
            _, seconds = timed_pipe(nlp, texts, batch_size)
            out[f"{label}_words_per_s"] = n_words / seconds
    return out


def markdown(results: Dict, command: str) -> str:
    """The BENCHMARKS.md "Relations" section."""
    s, systems = results["settings"], results["systems"]
    names = [("ours_gold", "ours, gold entities"), ("baseline_gold", "rel_component baseline, gold entities"),
             ("ours_end_to_end", "ours, end to end (joint)")]
    rows = []
    for key, label in names:
        r = systems.get(key)
        if r:
            t, half = r["test"], r["test_at_0.5"]
            rows.append(f"| {label} | {pct(t['p'])} / {pct(t['r'])} / **{pct(t['f'])}** (t={t['threshold']}) | "
                        f"{pct(half['p'])} / {pct(half['r'])} / {pct(half['f'])} | {pct(r['dev_tuned']['f'])} | "
                        f"{r['train_s'] / 60:.1f} min | {pct(r.get('test_candidate_recall'))} |")
    joint = systems.get("ours_end_to_end", {})
    sp, ner = joint.get("speed", {}), joint.get("test_ner", {})
    lines = [
        TITLE, "",
        machine_line(results, command, s["threads"]),
        f"CDR (BioCreative V), chemical-induced-disease relations between MeSH concepts, document level. Encoder "
        f"`{s['encoder']}`, tokenizer `spacy_biobert.Tokenizer.v1`; each pipeline trained {s['max_steps']} steps "
        f"(`batch_by_words` {s['batch_words']} words, Adam warmup-linear peak {s['learn_rate']}) on train, "
        f"`model-best` and decision threshold selected on the first {s['dev_docs']} dev documents "
        f"(eval every {s['eval_frequency']} steps), scored on {s['test_docs'] or 'all 500'} test documents. The baseline is "
        "`biobert_rel` configured as spaCy's `rel_component`: mean-pooled mentions, mention pairs within one "
        "sentence, concept decision = max over its mention pairs. End to end, relations use the joint "
        "pipeline's predicted entities; a predicted mention takes gold concept ids only on an exact "
        "character-span match.",
        "",
        "| pipeline | test concept CID P / R / F (dev-tuned threshold) | test P / R / F at 0.5 | dev F | training wall time | candidate recall |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"Joint pipeline NER on test (entities predicted end to end): P / R / F = {pct(ner.get('ents_p'))} / "
        f"{pct(ner.get('ents_r'))} / {pct(ner.get('ents_f'))}.",
        f"CPU inference ({sp.get('words', 0)} test words): joint pipeline {sp.get('joint_words_per_s', 0):.0f} words/s, "
        f"NER alone (same pipeline without biobert_rel) {sp.get('ner_alone_words_per_s', 0):.0f} words/s.",
        "",
        "Candidate recall: test recall if every candidate pair were predicted (threshold 0): the ceiling set by "
        "the entities and the candidate scope.",
        f"Extra config overrides: {', '.join(s.get('override') or []) or 'none'}.",
        "",
        "Targets (test concept-level CID F1, dev-tuned threshold): "
        + "; ".join(f"{k} >= {100 * v:.1f}: {results['targets'].get(k, 'not run')}" for k, v in TARGETS.items()) + ".",
        f"Raw results: `{results['raw']}`.",
        "",
    ]
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__, "rel", "Relations")
    parser.add_argument("--max-steps", type=int, default=150)
    parser.add_argument("--eval-frequency", type=int, default=0, help="default: max-steps / 2")
    parser.add_argument("--dev-docs", type=int, default=100, help="dev documents for model selection and threshold")
    parser.add_argument("--test-docs", type=int, default=0, help="limit the test documents (0: all 500)")
    parser.add_argument("--speed-docs", type=int, default=150, help="test documents timed for words/s")
    parser.add_argument("--encoder", default=EMBEDDED_ENCODER)
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset of " + ",".join(SYSTEMS))
    parser.add_argument("--no-train", action="store_true",
                        help="reuse the trained models under --work (training times are kept from --out)")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="extra config override for every pipeline, e.g. components.biobert_rel.head_lr_scale=20")
    args = parser.parse_args()
    args.eval_frequency = args.eval_frequency or max(1, args.max_steps // 2)
    return args


def main() -> None:
    args = parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    log = args.work / "bench.log"
    torch.set_num_threads(args.threads)
    corpus = corpus_dir(args.cdr, args.work, log)
    settings = {k: getattr(args, k) for k in ("max_steps", "eval_frequency", "batch_words", "learn_rate",
                                                "dev_docs", "test_docs", "speed_docs", "batch_size", "encoder", "threads",
                                                "override")}
    results = {"date": utc_now(), "settings": settings, "machine": machine(), "systems": {}, "targets": {},
               "raw": os.path.relpath(args.out, ROOT)}
    previous = json.loads(args.out.read_text(encoding="utf8")).get("systems", {}) if args.out.exists() else {}
    for name in args.systems.split(","):
        output = args.work / name
        if args.no_train:
            train_s = previous.get(name, {}).get("train_s", 0.0)
        else:
            train_s = train(name, corpus, output, args, log)
        log_line(log, f"{name}: trained in {train_s:.0f}s; evaluating")
        result = evaluate(name, output / "model-best", corpus, args)
        results["systems"][name] = {"train_s": train_s, **result}
        log_line(log, f"{name}: {json.dumps(result)}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2), encoding="utf8")
    for target, key in (("gold_entities", "ours_gold"), ("end_to_end", "ours_end_to_end")):
        if key in results["systems"]:
            met = results["systems"][key]["test"]["f"] >= TARGETS[target]
            results["targets"][target] = "met" if met else "NOT met"
    args.out.write_text(json.dumps(results, indent=2), encoding="utf8")
    command = "python bench/bench_rel.py " + " ".join(sys.argv[1:])
    write_section(args.benchmarks, markdown(results, command.strip()), TITLE)
    print(markdown(results, command.strip()))


if __name__ == "__main__":
    main()
