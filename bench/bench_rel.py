"""Relations on CDR (chemical-induced disease, document level): biobert_rel against a rel_component baseline
and a sentence co-occurrence baseline.

Three pipelines, trained on CDR train with the same encoder, tokenizer, batcher, optimizer schedule and number
of steps, ``model-best`` selected on (the first ``--dev-docs`` documents of) dev:

* **ours, gold entities** -- ``configs/rel.cfg``: ATLOP-style concept pooling (logsumexp), all concept pairs
  of the document;
* **baseline, gold entities** -- the same component configured like spaCy's ``rel_component`` tutorial:
  mean-pooled mention pair -> linear-ish MLP, pairs within one sentence, concept decision = max over its
  mention pairs (``pooling=mean``, ``scope=sentence``, ``aggregate=max``);
* **ours, end to end** -- ``configs/joint.cfg``: one transformer shared by ``biobert_ner`` and
  ``biobert_rel``, relations from predicted entities (exact-character-span rule for concept ids);

and, without training, the **sentence co-occurrence baseline** (every chemical-disease concept pair mentioned in
one sentence is CID, see ``bench/rel_baselines.py``) on the gold entities and on the entities (and ids) of a
trained NER pipeline (``--ner-model``, default: the end-to-end system's ``model-best``).

The decision threshold of each pipeline is tuned on the same dev documents
(``spacy_biobert.scoring.rel_threshold.tune_threshold``); test concept-level CID P/R/F are
reported at the tuned threshold and at 0.5. Also: training wall time, and CPU inference words/s of the joint
pipeline against its NER part alone. Writes ``bench/results/rel.json`` and the "Relations" section of
``BENCHMARKS.md``.

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``):
    python bench/bench_rel.py --max-steps 150
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import spacy
import torch
from spacy.training import Corpus, Example

from spacy_biobert.corpus.readers import create_gold_ents_corpus
from spacy_biobert.models.encoder import EMBEDDED_ENCODER
from spacy_biobert.scoring import rel_threshold

from common import (ROOT, argument_parser, capped_train, corpus_dir, log_line, machine, machine_line, pct,
                    schedule_overrides, timed_pipe, use_device, utc_now, write_section)
from rel_baselines import cooccurrence_relations, entity_pipeline

TITLE = "## Relations"
TARGETS = {"gold_entities": 0.628, "end_to_end": 0.570}
NO_LOCAL = {"components.biobert_rel.model.local_evidence": False}
BASELINE = {  # rel.cfg's component configured as spaCy's rel_component tutorial (no local evidence)
    **NO_LOCAL,
    "components.biobert_rel.model.pooling": "mean",
    "components.biobert_rel.aggregate": "max",
    "components.biobert_rel.candidates.scope": "sentence",
}
SYSTEMS = {  # name -> (config, extra overrides, gold entities?)
    "ours_gold": ("rel.cfg", NO_LOCAL, True),
    "ours_gold_v2": ("rel.cfg", {}, True),  # the shipped config
    "baseline_gold": ("rel.cfg", BASELINE, True),
    "ours_end_to_end": ("joint.cfg", {}, False),
    "e2e_frozen": ("e2e_frozen.cfg", NO_LOCAL, False),
    "e2e_frozen_v2": ("e2e_frozen.cfg", {}, False),  # the shipped config: v2, head_lr_scale 10
}
#: Systems whose transformer (and NER) are sourced from --ner-model: no encoder override.
SOURCED = {"e2e_frozen", "e2e_frozen_v2"}
LABELS = {
    "ours_gold": "ours (RelationModel.v2 without local evidence), gold entities",
    "ours_gold_v2": "ours (RelationModel.v2: + local evidence: shared-sentence context, distance), gold entities",
    "ours_gold_v2_pair": "ablation: v2 with loss_reduction = pair (mean over pairs), gold entities",
    "ours_gold_v2_lr10": "ablation: v2 with head_lr_scale = 10, gold entities",
    "baseline_gold": "rel_component baseline, gold entities",
    "cooccurrence_gold": "sentence co-occurrence, gold entities",
    "ours_end_to_end": "ours, end to end (joint.cfg: one transformer trained for both)",
    "e2e_frozen": "ours, end to end (e2e_frozen.cfg: NER sourced and frozen, v1 head)",
    "e2e_frozen_v2": "ours, end to end (e2e_frozen.cfg: NER sourced and frozen, v2 head)",
    "cooccurrence_end_to_end": "sentence co-occurrence, end to end (NER entities)",
}
COOCCURRENCE = {"cooccurrence_gold": True, "cooccurrence_end_to_end": False}  # name -> gold entities?
COOCCURRENCE_NOTE = (" The sentence co-occurrence baseline (no training, no threshold) calls every chemical-disease "
                     "concept pair mentioned in one sentence CID, on the gold entities and, end to end, on the "
                     "entities and ids of `{}` (its relation head off).")


END_TO_END_NOTE = {  # which concept ids end-to-end relations were scored with (runs before the linker: exact span)
    "exact span": "End to end, relations use the joint pipeline's predicted entities; a predicted mention takes "
                  "gold concept ids only on an exact character-span match.",
    "pipeline": "End to end, relations use the pipeline's predicted entities (in the frozen pipelines, those of "
                "`--ner-model`) and the concept ids its linker gives them (`rel_concept_*`); while training, a "
                "predicted mention takes gold ids only on an exact character-span match.",
}


def train(name: str, corpus: Path, output: Path, args: argparse.Namespace, log: Path) -> Tuple[float, bool]:
    """Train one system with the shared budget; return the wall time in seconds and whether
    ``--train-timeout-s`` stopped it."""
    config, extra, _ = SYSTEMS[name]
    overrides = {
        "paths.train": corpus / "train.spacy",
        "paths.dev": corpus / "dev.spacy",
        "corpora.dev.limit": args.dev_docs,
        **schedule_overrides(args),
        **({"paths.ner_model": args.ner_model} if name in SOURCED else {"components.transformer.model.name": args.encoder}),
        **extra,
        **dict(item.split("=", 1) for item in args.override),
    }
    return capped_train(ROOT / "configs" / config, output, overrides, log, args)


def predict(nlp, examples: List[Example], batch_size: int) -> Tuple[List[Example], float]:
    """Run ``nlp`` with relation threshold 0 (every candidate stored with its score); return examples and
    seconds."""
    start = time.perf_counter()
    with nlp.get_pipe("biobert_rel").temporarily(threshold=0.0):
        docs = list(nlp.pipe((eg.predicted for eg in examples), batch_size=batch_size))
    return [Example(doc, eg.reference) for doc, eg in zip(docs, examples)], time.perf_counter() - start


def concept_prf(examples: List[Example], threshold: Optional[float]) -> Dict[str, float]:
    """Concept-level P/R/F at ``threshold`` (None: keep every stored relation), with the threshold."""
    return {**rel_threshold.concept_prf(examples, threshold or 0.0), "threshold": threshold}


def read(nlp, corpus: Path, split: str, gold: bool, limit: int = 0) -> List[Example]:
    """Examples of ``corpus/<split>.spacy``: predicted docs with the gold entities, or bare text."""
    path = corpus / f"{split}.spacy"
    reader = create_gold_ents_corpus(path, limit=limit) if gold else Corpus(path, limit=limit)
    return list(reader(nlp))


def evaluate(name: str, model: Path, corpus: Path, args: argparse.Namespace) -> Dict:
    """Tune the threshold on dev, score test (gold entities or end to end)."""
    nlp = spacy.load(model)
    gold = SYSTEMS[name][2]
    dev, _ = predict(nlp, read(nlp, corpus, "dev", gold, args.dev_docs), args.batch_size)
    threshold, scores = rel_threshold.tune_threshold(dev)
    tuned = {**scores, "threshold": threshold}
    test, seconds = predict(nlp, read(nlp, corpus, "test", gold, args.test_docs), args.batch_size)
    result = {"dev_tuned": tuned, "test": concept_prf(test, tuned["threshold"]), "test_at_0.5": concept_prf(test, 0.5),
              "test_candidate_recall": concept_prf(test, 0.0)["r"],
              "test_inference_s": seconds, "test_words": sum(len(eg.predicted) for eg in test)}
    if not gold:
        ents = nlp.get_pipe("biobert_ner").score(test)
        result["test_ner"] = {k: ents.get(k) for k in ("ents_p", "ents_r", "ents_f")}
        result["speed"] = speed(nlp, [eg.reference.text for eg in test][: args.speed_docs], args.batch_size)
    return result


def cooccurrence_examples(nlp, corpus: Path, split: str, gold: bool, limit: int,
                          batch_size: int) -> Tuple[List[Example], float]:
    """Entities (and sentences) from ``nlp``, relations from sentence co-occurrence; examples and seconds."""
    examples = read(nlp, corpus, split, gold, limit)
    start = time.perf_counter()
    docs = [cooccurrence_relations(doc) for doc in nlp.pipe((eg.predicted for eg in examples), batch_size=batch_size)]
    return [Example(doc, eg.reference) for doc, eg in zip(docs, examples)], time.perf_counter() - start


def evaluate_cooccurrence(name: str, corpus: Path, args: argparse.Namespace, log: Path) -> Optional[Dict]:
    """Score the co-occurrence baseline on dev and test, in the result format of :func:`evaluate` (no threshold:
    every co-occurring pair is predicted, so the candidate recall is the recall)."""
    gold = COOCCURRENCE[name]
    if not gold and not args.entities_model.exists():
        log_line(log, f"{name}: skipped, no NER pipeline at {args.entities_model} "
                      "(train ours_end_to_end or pass --ner-model)")
        return None
    nlp = entity_pipeline(None if gold else args.entities_model, ROOT / "configs" / "rel.cfg")
    dev, _ = cooccurrence_examples(nlp, corpus, "dev", gold, args.dev_docs, args.batch_size)
    test, seconds = cooccurrence_examples(nlp, corpus, "test", gold, args.test_docs, args.batch_size)
    scores = concept_prf(test, None)
    return {"dev_tuned": concept_prf(dev, None), "test": scores, "test_at_0.5": scores,
            "test_candidate_recall": scores["r"], "test_inference_s": seconds,
            "test_words": sum(len(eg.predicted) for eg in test), "entities": "gold" if gold else str(args.entities_model)}


def speed(nlp, texts: List[str], batch_size: int, repeats: int = 1) -> Dict[str, float]:
    """Words/s of the whole joint pipeline and of its NER part alone, on the same texts: the best of ``repeats``
    passes each, the two alternating (so drifting machine load hits both alike)."""
    n_words = sum(len(nlp.make_doc(text)) for text in texts)
    best = {"joint": float("inf"), "ner_alone": float("inf")}
    for _ in range(repeats):
        for label, disable in (("joint", []), ("ner_alone", ["biobert_rel"])):
            with nlp.select_pipes(disable=disable):
                best[label] = min(best[label], timed_pipe(nlp, texts, batch_size)[1])
    return {"words": n_words, "repeats": repeats, **{f"{k}_words_per_s": n_words / v for k, v in best.items()}}


def markdown(results: Dict, command: str) -> str:
    """The BENCHMARKS.md "Relations" section."""
    s, systems = results["settings"], results["systems"]
    rows = [markdown_row(label, systems[key], key in COOCCURRENCE) for key, label in LABELS.items() if systems.get(key)]
    untrained = bool(set(COOCCURRENCE) & set(systems))
    lines = [
        results.get("title", TITLE), "",
        machine_line(results, command, s["threads"]),
        f"CDR (BioCreative V), chemical-induced-disease relations between MeSH concepts, document level. Encoder "
        f"`{s['encoder']}`, tokenizer `spacy_biobert.Tokenizer.v1`; each pipeline trained {s['max_steps']} steps "
        f"(`batch_by_words` {s['batch_words']} words, Adam warmup-linear peak {s['learn_rate']}) on train, "
        f"`model-best` and decision threshold selected on the first {s['dev_docs']} dev documents "
        f"(eval every {s['eval_frequency']} steps), scored on {s['test_docs'] or 'all 500'} test documents. The baseline is "
        "`biobert_rel` configured as spaCy's `rel_component`: mean-pooled mentions, mention pairs within one "
        "sentence, concept decision = max over its mention pairs. " + END_TO_END_NOTE[s.get("ids", "exact span")]
        + (COOCCURRENCE_NOTE.format(s.get("entities_model", s.get("ner_model"))) if untrained else ""),
        "",
        "| pipeline | test concept CID P / R / F (dev-tuned threshold) | test P / R / F at 0.5 | dev F | training wall time | candidate recall |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        *end_to_end_lines(systems, "GPU" if s.get("gpu_id", -1) >= 0 else "CPU"),
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


def end_to_end_lines(systems: Dict, device: str = "CPU") -> List[str]:
    """Per end-to-end pipeline: its NER on test, and its words/s on ``device`` with and without the relation head."""
    lines = []
    for key, r in systems.items():
        if "test_ner" not in r:
            continue
        ner, sp = r["test_ner"], r.get("speed", {})
        with_rel, alone = sp.get("joint_words_per_s", 0), sp.get("ner_alone_words_per_s", 0)
        added = f"{100 * (alone / with_rel - 1):+.1f} %" if with_rel and alone else "n/a"
        lines.append(f"- {LABELS[key]}: NER on test P / R / F = {pct(ner.get('ents_p'))} / {pct(ner.get('ents_r'))} / "
                     f"{pct(ner.get('ents_f'))}; {device} inference ({sp.get('words', 0)} test words) {with_rel:.0f} "
                     f"words/s, without biobert_rel {alone:.0f} words/s (relation head's share of the time: {added}).")
    return lines


def markdown_row(label: str, r: Dict, untrained: bool) -> str:
    """One row of the results table (an untrained baseline has no threshold and no training time)."""
    t, half = r["test"], r["test_at_0.5"]
    threshold = "n/a" if t["threshold"] is None else t["threshold"]
    train = "none" if untrained else f"{r['train_s'] / 60:.1f} min"
    return (f"| {label} | {pct(t['p'])} / {pct(t['r'])} / **{pct(t['f'])}** (t={threshold}) | "
            f"{pct(half['p'])} / {pct(half['r'])} / {pct(half['f'])} | {pct(r['dev_tuned']['f'])} | "
            f"{train} | {pct(r.get('test_candidate_recall'))} |")


def targets(systems: Dict[str, Dict]) -> Dict[str, str]:
    """The issue's targets, each judged on the system dev selects among ours (gold entities; end to end)."""
    out = {}
    for target, keys in (("gold_entities", ("ours_gold", "ours_gold_v2")),
                         ("end_to_end", ("ours_end_to_end", "e2e_frozen", "e2e_frozen_v2"))):
        run = [key for key in keys if key in systems]
        if run:
            best = max(run, key=lambda key: systems[key]["dev_tuned"]["f"])
            f = systems[best]["test"]["f"]
            out[target] = f"{'met' if f >= TARGETS[target] else 'NOT met'} ({pct(f)}, {best})"
    return out


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__, "rel", "Relations")
    parser.add_argument("--max-steps", type=int, default=150)
    parser.add_argument("--eval-frequency", type=int, default=0, help="default: max-steps / 2")
    parser.add_argument("--dev-docs", type=int, default=100, help="dev documents for model selection and threshold")
    parser.add_argument("--test-docs", type=int, default=0, help="limit the test documents (0: all 500)")
    parser.add_argument("--speed-docs", type=int, default=150, help="test documents timed for words/s")
    parser.add_argument("--encoder", default=EMBEDDED_ENCODER)
    names = [*SYSTEMS, *COOCCURRENCE]
    parser.add_argument("--systems", default=",".join(names), help="comma-separated subset of " + ",".join(names))
    parser.add_argument("--ner-model", type=Path, default=None,
                        help="the trained NER pipeline the frozen end-to-end systems source "
                             "(default: --work/ours_end_to_end/model-best)")
    parser.add_argument("--entities-model", type=Path, default=None,
                        help="entities and ids of cooccurrence_end_to_end: a pipeline with NER and a linker, e.g. "
                             "--work/e2e_frozen_v2/model-best (default: --ner-model)")
    parser.add_argument("--no-train", action="store_true",
                        help="reuse the trained models under --work (training times are kept from --out)")
    parser.add_argument("--title", default=TITLE, help="BENCHMARKS.md section written (runs can keep their own)")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="extra config override for every pipeline, e.g. components.biobert_rel.head_lr_scale=20")
    args = parser.parse_args()
    args.eval_frequency = args.eval_frequency or max(1, args.max_steps // 2)
    args.ner_model = args.ner_model or args.work / "ours_end_to_end" / "model-best"
    args.entities_model = args.entities_model or args.ner_model
    unknown = set(args.systems.split(",")) - set(names)
    if unknown:
        parser.error(f"unknown systems {', '.join(sorted(unknown))}; known: {', '.join(names)}")
    return args


def run_system(name: str, corpus: Path, args: argparse.Namespace, log: Path, previous: Dict) -> Optional[Dict]:
    """Train (unless --no-train) and evaluate one system; a co-occurrence baseline is evaluated only (None when
    its entities' pipeline is missing)."""
    if name in COOCCURRENCE:
        result = evaluate_cooccurrence(name, corpus, args, log)
        return None if result is None else {"train_s": 0.0, **result}
    output = args.work / name
    if args.no_train:
        train_s, timed_out = previous.get(name, {}).get("train_s", 0.0), previous.get(name, {}).get("timed_out", False)
    else:
        train_s, timed_out = train(name, corpus, output, args, log)
    log_line(log, f"{name}: trained in {train_s:.0f}s; evaluating")
    return {"train_s": train_s, "timed_out": timed_out, **evaluate(name, output / "model-best", corpus, args)}


def main() -> None:
    args = parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    log = args.work / "bench.log"
    torch.set_num_threads(args.threads)
    use_device(args)
    corpus = corpus_dir(args.cdr, args.work, log)
    settings = {k: getattr(args, k) for k in ("max_steps", "eval_frequency", "batch_words", "learn_rate",
                                                "dev_docs", "test_docs", "speed_docs", "batch_size", "encoder", "threads",
                                                "override", "gpu_id", "train_timeout_s")}
    settings["ner_model"] = str(args.ner_model)
    settings["entities_model"] = str(args.entities_model)
    settings["ids"] = "pipeline"
    results = {"date": utc_now(), "settings": settings, "machine": machine(), "systems": {}, "targets": {},
               "raw": os.path.relpath(args.out, ROOT), "title": args.title}
    previous = json.loads(args.out.read_text(encoding="utf8")).get("systems", {}) if args.out.exists() else {}
    for name in args.systems.split(","):
        result = run_system(name, corpus, args, log, previous)
        if result is None:
            continue
        results["systems"][name] = result
        log_line(log, f"{name}: {json.dumps(result)}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2), encoding="utf8")
    results["targets"] = targets(results["systems"])
    args.out.write_text(json.dumps(results, indent=2), encoding="utf8")
    command = "python bench/bench_rel.py " + " ".join(sys.argv[1:])
    write_section(args.benchmarks, markdown(results, command.strip()), args.title)
    print(markdown(results, command.strip()))


if __name__ == "__main__":
    main()
