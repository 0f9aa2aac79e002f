"""End to end on BioCreative V CDR: raw text -> entities -> MeSH ids -> chemical-induced-disease relations.

Each ``--system NAME=PIPELINE`` is a trained end-to-end pipeline (NER, ``biobert_linker``, ``biobert_rel``).
Everything is chosen on dev, end to end, then applied once to test:

* **knowledge base** -- on dev the linker uses the gold mentions of train + MeSH-lite (the dev mentions held
  out, as test's are); on test, train + dev + MeSH-lite (what the shipped pipeline holds). Each KB replaces the
  pipeline's own for the run;
* **linker threshold** -- the one with the best document-level normalisation F of the predicted entities on dev
  (``--linker-thresholds``);
* **KB lever** -- on dev, the same predicted entities linked with the training mentions alone and with MeSH-lite
  added: normalisation F and the pair ceiling of each;
* **relation threshold and title bonus** -- the pair with the best concept-level CID F on dev with the linker's
  ids (``--title-bonuses``; see :mod:`spacy_biobert.pipeline.rel_title`);
* **system** -- the one with the best dev CID F is the pick (``pick`` in the results).

A pipeline whose NER was trained on dev too (``spacy project run train-ner-final``) cannot choose anything on dev:
``--system NAME=PIPELINE,CHOSEN_WITH`` takes its thresholds, title bonus and dev figures from ``CHOSEN_WITH`` (the
same pipeline with its train-only NER) and scores ``PIPELINE`` on test. With equal dev figures the pick is the
pipeline trained on more data.

Reported on dev and test: NER P/R/F, linking (document-level normalisation) P/R/F, CID P/R/F, the waterfall of
the gold pairs (:mod:`spacy_biobert.scoring.waterfall`), sentence and document co-occurrence over the same
entities and ids, and on test the words/s of the whole pipeline. The published anchors are listed beside.
Writes ``bench/results/e2e.json``, ``bench/results/e2e_waterfall.png`` and the "End to end" section of
BENCHMARKS.md.

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``):
    python bench/bench_e2e.py --system shipped=training/cdr
"""
import argparse
import json
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import spacy
import torch
from spacy.training import Corpus, Example

from spacy_biobert.kb.build import build_kb
from spacy_biobert.kb import KnowledgeBase
from spacy_biobert.scoring import rel_threshold
from spacy_biobert.scoring.linker import score_linking
from spacy_biobert.scoring.waterfall import STAGES, pair_waterfall

from bench_linker import scores_at
from common import ROOT, checkout_path, machine, n_cores, pct, utc_now, write_section
from rel_baselines import cooccurrence_relations

TITLE = "## End to end"
#: Published end-to-end CID F on CDR test (concept level, from raw text).
ANCHORS = {
    "BioCreative V best system (used a curated KB of known relations)": 57.03,
    "ensemble of the BioCreative V systems": 62.80,
    "HITSZ_CDR (BioCreative V)": 43.04,
    "seq2rel (end to end, one seq2seq model)": 40.2,
}
TARGETS = {"cid_f": 0.50, "reach": 0.75, "linking_f": 0.85, "ents_f": 0.843}
LINKER_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def examples(nlp, path: Path, limit: int) -> List[Example]:
    """Bare text of ``path`` (predicted docs without entities) with the gold references."""
    return list(Corpus(path, limit=limit)(nlp))


def annotate(nlp, egs: List[Example], batch_size: int, disable: Sequence[str] = ()) -> Tuple[List[Example], float]:
    """Run ``nlp`` (without ``disable``) over the examples' texts; return new examples and seconds."""
    start = time.perf_counter()
    with nlp.select_pipes(disable=list(disable)):
        docs = list(nlp.pipe((eg.predicted for eg in egs), batch_size=batch_size))
    return [Example(doc, eg.reference) for doc, eg in zip(docs, egs)], time.perf_counter() - start


def relinked(linker, entities: List[Example]) -> List[Example]:
    """Copies of the examples' predicted docs (NER entities) linked by ``linker``."""
    return [Example(linker(eg.predicted.copy()), eg.reference) for eg in entities]


def choose_linker_threshold(linker, entities: List[Example], thresholds: Sequence[float]) -> Dict:
    """The linker threshold with the best dev normalisation F of the predicted entities (ties: the higher)."""
    with linker.temporarily(threshold=0.0):  # every best candidate kept; scores_at filters them
        linked = relinked(linker, entities)
    sweep = {t: scores_at([eg.predicted for eg in linked], [eg.reference for eg in linked], t)["linker_doc_f"] or 0.0
             for t in sorted(thresholds)}
    best = max(sweep, key=lambda t: (sweep[t], t))
    linker.threshold = best
    return {"threshold": best, "sweep": {str(t): f for t, f in sweep.items()}}


def kb_lever(linker, entities: List[Example], kbs: Dict[str, KnowledgeBase]) -> Dict[str, Dict]:
    """Normalisation F and pair ceiling of the NER's entities linked with each KB."""
    lever = {}
    for name, kb in kbs.items():
        linker.set_kb(kb)
        linked = relinked(linker, entities)
        reach = pair_waterfall(linked, 1.0)
        lever[name] = {"concepts": len(kb), "linking_f": score_linking(linked)["linker_doc_f"],
                       "reach": reach["reach"] / max(1, reach["gold"])}
    return lever


def split_scores(nlp, egs: List[Example], threshold: float) -> Dict:
    """NER, linking, CID, waterfall and co-occurrence scores of annotated examples (the store is replaced by
    the co-occurrence baselines last)."""
    ner = nlp.get_pipe("biobert_ner").score(egs)
    link = score_linking(egs)
    result = {
        "ner": {k: ner.get(k) for k in ("ents_p", "ents_r", "ents_f")},
        "linking": {k: link[f"linker_doc_{k}"] for k in ("p", "r", "f")},
        "cid": rel_threshold.concept_prf(egs, threshold),
        "waterfall": pair_waterfall(egs, threshold),
    }
    for scope in ("sentence", "document"):
        for eg in egs:
            cooccurrence_relations(eg.predicted, scope=scope)
        result[f"cooccurrence_{scope}"] = rel_threshold.concept_prf(egs, 0.0)
    return result


def run_system(path: Path, kbs: Dict[str, KnowledgeBase], corpus: Path, args: argparse.Namespace,
               chosen_with: Optional[Path] = None) -> Dict:
    """Choose the thresholds on dev (with ``chosen_with`` when given), score dev and test (see the module
    docstring)."""
    # every candidate stored with its own score (the title bonus is applied to copies below)
    unthresholded = {"components": {"biobert_rel": {"threshold": 0.0, "title_bonus": 0.0}}}
    nlp = spacy.load(chosen_with or path, config=unthresholded)
    linker = nlp.get_pipe("biobert_linker")
    linker.set_kb(kbs["dev"])
    dev = examples(nlp, corpus / "dev.spacy", args.dev_docs)
    entities, _ = annotate(nlp, dev, args.batch_size, disable=["biobert_linker", "biobert_rel"])  # NER once
    linking = choose_linker_threshold(linker, entities, args.linker_thresholds)
    lever = kb_lever(linker, entities, {"train mentions": kbs["dev_no_mesh"], "train mentions + MeSH-lite": kbs["dev"]})
    linker.set_kb(kbs["dev"])
    dev, _ = annotate(nlp, dev, args.batch_size)
    bonus, threshold, _ = rel_threshold.tune_title_bonus(dev, args.title_bonuses)
    plain, _ = rel_threshold.tune_threshold(dev)  # the same head without the title bonus: the lever's worth
    result = {"pipeline": checkout_path(path), "chosen_with": chosen_with and checkout_path(chosen_with),
              "linker_threshold": linking, "rel_threshold": threshold, "title_bonus": bonus,
              "kb_lever": lever, "no_title_bonus": {"rel_threshold": plain,
                                                    "dev_cid": rel_threshold.concept_prf(dev, plain)}}
    # split_scores replaces the stores by the co-occurrence baselines last: the relation scores are read before
    result.update(dev=split_scores(nlp, rel_threshold.with_title_bonus(dev, bonus), threshold), dev_docs=len(dev))
    if chosen_with is not None:
        nlp = spacy.load(path, config=unthresholded)
        linker = nlp.get_pipe("biobert_linker")
        linker.threshold = linking["threshold"]
    linker.set_kb(kbs["test"])
    test, seconds = annotate(nlp, examples(nlp, corpus / "test.spacy", args.test_docs), args.batch_size)
    words = sum(len(eg.predicted) for eg in test)
    result["no_title_bonus"]["test_cid"] = rel_threshold.concept_prf(test, plain)
    result.update(test=split_scores(nlp, rel_threshold.with_title_bonus(test, bonus), threshold), test_docs=len(test),
                  speed={"words": words, "seconds": seconds, "words_per_s": words / seconds})
    return result


def waterfall_rows(w: Dict) -> List[Tuple[str, int, float]]:
    """(stage, pairs, share of gold) for the stages, then the ceiling."""
    labels = {"gold": "gold CID pairs", "found": "both concepts found by NER (exact span)",
              "linked": "... and linked to the right ids", "predicted": "... and predicted above the threshold"}
    rows = [(labels[stage], w[stage], w[stage] / w["gold"]) for stage in STAGES]
    return rows + [("ceiling: both ids reach the relation head (any span)", w["reach"], w["reach"] / w["gold"])]


def plot_waterfall(results: Dict, path: Path) -> None:
    """A bar chart of the picked system's waterfall on dev and test."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    system = results["systems"][results["pick"]]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.38
    for offset, split in ((-width / 2, "dev"), (width / 2, "test")):
        w = system[split]["waterfall"]
        shares = [100 * w[stage] / w["gold"] for stage in STAGES]
        bars = ax.bar([i + offset for i in range(len(STAGES))], shares, width, label=split)
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
    ax.set_xticks(range(len(STAGES)), ["gold pairs", "found by NER", "linked right", "predicted"])
    ax.set_ylabel("% of gold CID pairs")
    ax.set_ylim(0, 110)
    ax.set_title(f"Where end-to-end CID pairs are lost ({results['pick']}, CDR)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(results: Dict, command: str) -> str:
    """The "End to end" section of BENCHMARKS.md."""
    pick = results["pick"]
    m = results["machine"]
    lines = [TITLE, "",
             f"Command: `{command}` — date: {results['date']}. Machine: {m['nproc']} cores ({m['cpu']}), no GPU, "
             f"torch threads {results['threads']}. CDR test ({results['systems'][pick]['test_docs']} documents); "
             "every setting chosen on dev "
             f"({results['systems'][pick]['dev_docs']} documents, KB without the dev mentions), one run.", "",
             *([f"Systems: {results['budget']}", ""] if results.get("budget") else []),
             f"Measured on {m['nproc']} CPU cores ({m['cpu']}), no GPU, {results['date']}.", "",
             "| system | NER F | linking F | CID P | CID R | CID F | CID F without title bonus | sentence co-occ. F "
             "| document co-occ. F | pair ceiling | words/s | dev CID F (without title bonus) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in results["systems"].items():
        t, w = r["test"], r["test"]["waterfall"]
        mark = (" (pick)" if name == pick else "") + (f", settings chosen with `{r['chosen_with']}`"
                                                        if r.get("chosen_with") else "")
        plain = r.get("no_title_bonus", {"test_cid": t["cid"], "dev_cid": r["dev"]["cid"]})
        lines.append(f"| {name}{mark} | {pct(t['ner']['ents_f'])} | {pct(t['linking']['f'])} | {pct(t['cid']['p'])} "
                     f"| {pct(t['cid']['r'])} | **{pct(t['cid']['f'])}** | {pct(plain['test_cid']['f'])} "
                     f"| {pct(t['cooccurrence_sentence']['f'])} "
                     f"| {pct(t['cooccurrence_document']['f'])} | {pct(w['reach'] / w['gold'])} "
                     f"| {r['speed']['words_per_s']:,.0f} | {pct(r['dev']['cid']['f'])} ({pct(plain['dev_cid']['f'])}) |")
    lines += ["", "Published end-to-end CID F on CDR test: "
              + "; ".join(f"{name} {value:.2f}" for name, value in ANCHORS.items()) + ".", "",
              f"Waterfall of the gold CID pairs ({pick}; relation threshold {results['systems'][pick]['rel_threshold']}, "
              f"title bonus {results['systems'][pick].get('title_bonus', 0.0)}, "
              f"linker threshold {results['systems'][pick]['linker_threshold']['threshold']}, all chosen on dev):", "",
              "| stage | dev pairs | dev % | test pairs | test % |", "| --- | --- | --- | --- | --- |"]
    system = results["systems"][pick]
    for (label, n_dev, s_dev), (_, n_test, s_test) in zip(waterfall_rows(system["dev"]["waterfall"]),
                                                           waterfall_rows(system["test"]["waterfall"])):
        lines.append(f"| {label} | {n_dev} | {pct(s_dev)} | {n_test} | {pct(s_test)} |")
    lines += ["", "![waterfall](bench/results/e2e_waterfall.png)", "",
              f"The knowledge base, measured on dev end to end ({pick}'s entities, linker threshold "
              f"{system['linker_threshold']['threshold']}; test uses the same sources plus the dev mentions):", "",
              "| KB | concepts | dev normalisation F | dev pair ceiling |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {r['concepts']:,} | {pct(r['linking_f'])} | {pct(r['reach'])} |"
              for name, r in system["kb_lever"].items()]
    lines += ["", "Targets (test): " + targets(system)]
    return "\n".join(lines) + "\n"


def targets(system: Dict) -> str:
    """Each target with the measured figure and met / NOT met."""
    t = system["test"]
    figures = {"cid_f": t["cid"]["f"], "reach": t["waterfall"]["reach"] / t["waterfall"]["gold"],
               "linking_f": t["linking"]["f"], "ents_f": t["ner"]["ents_f"]}
    names = {"cid_f": "CID F", "reach": "pair ceiling", "linking_f": "normalisation F", "ents_f": "NER F"}
    return "; ".join(f"{names[k]} >= {pct(v)}: {'met' if figures[k] >= v else 'NOT met'} ({pct(figures[k])})"
                     for k, v in TARGETS.items()) + "."


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--system", action="append", default=[], metavar="NAME=PIPELINE[,CHOSEN_WITH]",
                        help="an end-to-end pipeline folder (repeatable; the best on dev is the pick), and the "
                             "pipeline its dev choices are made with when its NER was trained on dev")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus", help="folder with train/dev/test.spacy")
    parser.add_argument("--dev-docs", type=int, default=0, help="first N dev documents (0: all)")
    parser.add_argument("--test-docs", type=int, default=0, help="first N test documents (0: all)")
    parser.add_argument("--linker-thresholds", type=float, nargs="+", default=LINKER_THRESHOLDS)
    parser.add_argument("--title-bonuses", type=float, nargs="+", default=rel_threshold.DEFAULT_TITLE_BONUSES,
                        help="biobert_rel title bonuses tried on dev with the thresholds (0: none)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=n_cores())
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "e2e.json")
    parser.add_argument("--benchmarks", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--section-only", action="store_true", help="rewrite the BENCHMARKS.md section from --out")
    parser.add_argument("--budget", help="how the systems were trained (steps, device), kept in the results")
    args = parser.parse_args()
    if not args.section_only and not args.system:
        parser.error("give at least one --system NAME=PIPELINE")
    return args


def shown_command(argv: Sequence[str]) -> str:
    """The command line as the results show it: the paths given to ``--corpus``, ``--out``, ``--benchmarks`` and
    ``--system NAME=PIPELINE`` relative to the checkout (:func:`common.checkout_path`)."""
    shown = list(argv)
    for i in range(1, len(shown)):
        if shown[i - 1] in ("--corpus", "--out", "--benchmarks"):
            shown[i] = checkout_path(Path(shown[i]))
        elif shown[i - 1] == "--system" and "=" in shown[i]:
            name, paths = shown[i].split("=", 1)
            shown[i] = f"{name}=" + ",".join(checkout_path(Path(path)) for path in paths.split(","))
    return "python bench/bench_e2e.py " + " ".join(shown)


def main() -> None:
    args = parse_args()
    command = shown_command(sys.argv[1:])
    if args.section_only:
        results = json.loads(args.out.read_text(encoding="utf8"))
        if args.budget:
            results["budget"] = args.budget
            args.out.write_text(json.dumps(results, indent=2), encoding="utf8")
    else:
        torch.set_num_threads(args.threads)
        train, dev = args.corpus / "train.spacy", args.corpus / "dev.spacy"
        kbs = {"dev": build_kb({"corpus": [train], "mesh": True}), "dev_no_mesh": build_kb({"corpus": [train]}),
               "test": build_kb({"corpus": [train, dev], "mesh": True})}
        systems = {}
        for item in args.system:
            name, paths = item.split("=", 1)
            path, _, chosen_with = paths.partition(",")
            systems[name] = run_system(Path(path), kbs, args.corpus, args, Path(chosen_with) if chosen_with else None)
        pick = max(systems, key=lambda name: (systems[name]["dev"]["cid"]["f"], bool(systems[name]["chosen_with"])))
        results = {"date": utc_now(), "machine": machine(), "threads": args.threads, "command": command,
                   "budget": args.budget,
                   "systems": systems, "pick": pick, "anchors": ANCHORS}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2), encoding="utf8")
    plot_waterfall(results, args.out.with_name("e2e_waterfall.png"))
    write_section(args.benchmarks, markdown(results, results["command"]), TITLE)


if __name__ == "__main__":
    main()
