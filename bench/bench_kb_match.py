r"""The NER head's dictionary-match feature (``spacy_biobert.KBMatchFeatures.v1``, issue 20): how much of the gold
mentions its dictionary matches, and the dev scores of a ``configs/ner.cfg`` run with it against one without.

Coverage: the share of gold mentions that are one whole dictionary match (a U token, or B..L exactly on the
mention), by the layer's own matching, for several dictionaries: MeSH-lite names only; + the training corpus's
mentions as a training document sees them (the other fold's only) and as dev sees them at prediction (all); and,
for comparison, what training would see without folds (every mention of its own document matches). Dev mentions
are never in the dictionary. Scores: the ENTS_F/P/R rows of the ``spacy train`` console logs given.

Usage (coverage is cheap; the training runs are not: run them under ``flock`` on ``common.CPU_LOCK``):
    python -m spacy train configs/ner.cfg --output RUN --paths.train corpus/train.spacy --paths.dev corpus/dev.spacy \
        --training.max_steps 500 --training.eval_frequency 250 \
        --components.biobert_ner.model.kb_match '{"@architectures": "spacy_biobert.KBMatchFeatures.v1", "width": 16, "max_tokens": 12, "lexicon": {"@misc": "spacy_biobert.kb_lexicon.v1", "corpus": "${paths.train}", "mesh": true}}' > kb_run.log
    python bench/bench_kb_match.py --log "kb_match=kb_run.log" --baseline-model training/ner/model-best
Writes ``bench/results/kb_match.json`` (BENCHMARKS.md: ``python bench/report.py``). ``bench/bench_ner_ablation.py``
has the same head as a variant.
"""
import argparse
import json
from pathlib import Path
from typing import Dict, List, Optional

import spacy
from spacy.tokens import DocBin
from spacy.util import registry

from common import ROOT, machine, utc_now

from spacy_biobert.models.kb_match import match_ids

BILU_START, BILU_END = (0, 3), (2, 3)  # B or U starts a match, L or U ends one
#: The measured head's ``kb_match`` block (``configs/ner.cfg`` has none): MeSH-lite + the training mentions.
KB_MATCH = {"@architectures": "spacy_biobert.KBMatchFeatures.v1", "width": 16, "max_tokens": 12,
            "lexicon": {"@misc": "spacy_biobert.kb_lexicon.v1", "corpus": "${paths.train}", "mesh": True}}
#: ``spacy train configs/ner.cfg`` plus this override trains that head.
KB_MATCH_OVERRIDE = {"components.biobert_ner.model.kb_match": json.dumps(KB_MATCH)}


def dictionary(corpus: Optional[Path]):
    """``KB_MATCH``'s layer, initialized on MeSH-lite and the mentions of ``corpus`` (None: MeSH-lite only)."""
    lexicon = {**KB_MATCH["lexicon"], "corpus": None if corpus is None else str(corpus)}
    model = registry.resolve({"m": {**KB_MATCH, "lexicon": lexicon}})["m"]
    model.initialize()
    return model


def whole_match(ids: List[int], start: int, end: int) -> bool:
    """Whether tokens ``start:end`` are exactly one dictionary match."""
    inside = ids[start:end]
    return (all(i > 0 for i in inside) and (inside[0] - 1) % 4 in BILU_START and (inside[-1] - 1) % 4 in BILU_END
            and (end == len(ids) or ids[end] == 0 or (ids[end] - 1) % 4 in BILU_START))


def coverage(model, docs, is_train: bool) -> Dict[str, float]:
    mentions = matched = tokens = in_mentions = 0
    for doc in docs:
        ids = match_ids(model, doc, is_train)
        gold = {i for ent in doc.ents for i in range(ent.start, ent.end)}
        mentions += len(doc.ents)
        matched += sum(whole_match(ids, ent.start, ent.end) for ent in doc.ents)
        tokens += sum(i > 0 for i in ids)
        in_mentions += sum(ids[i] > 0 for i in gold)
    return {"mentions": mentions, "mentions_matched": matched, "mention_coverage": matched / max(mentions, 1),
            "matched_tokens": tokens, "matched_tokens_in_mentions": in_mentions / max(tokens, 1)}


def eval_rows(log: Path) -> List[Dict[str, float]]:
    """The evaluation rows of a ``spacy train`` console log: step, ENTS_F/P/R (percent)."""
    rows, header = [], None
    for line in log.read_text(encoding="utf8", errors="replace").splitlines():
        if "ENTS_F" in line and "#" in line:
            header = [name.strip() for name in line.split("  ") if name.strip()]
        elif header and line.split() and line.split()[0].isdigit() and len(line.split()) == len(header):
            row = dict(zip(header, line.split()))
            rows.append({"step": int(row["#"]), **{k.lower(): float(row[k]) for k in ("ENTS_F", "ENTS_P", "ENTS_R")}})
    return rows


def best_dev(model: Path) -> Dict[str, object]:
    """The dev figures that selected a ``model-best`` and its run's step budget."""
    meta = json.loads((model / "meta.json").read_text(encoding="utf8"))["performance"]
    steps = spacy.util.load_config(model / "config.cfg", interpolate=False)["training"]["max_steps"]
    return {"max_steps": steps, **{key: 100 * meta[key] for key in ("ents_f", "ents_p", "ents_r")}}


def section(results: Dict) -> str:
    """The BENCHMARKS.md lines of one run: the dictionary's coverage, then dev F at each evaluation beside the
    run without it."""
    lines = ["## NER: dictionary-match features", "",
             "| dictionary, documents | gold mentions that are one whole match | matched tokens inside mentions |",
             "| --- | --- | --- |"]
    lines += [f"| {name} | {100 * c['mention_coverage']:.1f} % of {c['mentions']:,} | "
              f"{100 * c['matched_tokens_in_mentions']:.1f} % |" for name, c in results["coverage"].items()]
    base = results.get("baseline_best_dev")
    lines += ["", "| run | step | dev P / R / F |", "| --- | --- | --- |"]
    for name, rows in results["runs"].items():
        lines += [f"| {name} | {r['step']} | {r['ents_p']:.2f} / {r['ents_r']:.2f} / **{r['ents_f']:.2f}** |"
                  for r in rows if r["step"] > 0]
    if base:
        lines.append(f"| without (its `model-best`, of a {base['max_steps']}-step run) | best | {base['ents_p']:.2f} / "
                     f"{base['ents_r']:.2f} / **{base['ents_f']:.2f}** |")
        for name, rows in results["runs"].items():
            last = rows[-1]
            lines += ["", f"{name} at step {last['step']}: dev F {last['ents_f']:.2f} against {base['ents_f']:.2f} "
                      f"without ({last['ents_f'] - base['ents_f']:+.2f})."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus", help="folder of train.spacy and dev.spacy")
    parser.add_argument("--log", action="append", default=[], help="NAME=spacy train console log (repeatable)")
    parser.add_argument("--baseline-model", type=Path, help="the run without kb_match: its model-best (best dev)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "kb_match.json")
    args = parser.parse_args()
    vocab = spacy.blank("en").vocab
    train, dev = (list(DocBin().from_disk(args.corpus / f"{s}.spacy").get_docs(vocab)) for s in ("train", "dev"))
    mesh_only, with_train = dictionary(None), dictionary(args.corpus / "train.spacy")
    results = {
        "date": utc_now(), "machine": machine(), "command": "python bench/bench_kb_match.py "
        + " ".join(f'--log "{log}"' for log in args.log)
        + ("" if args.baseline_model is None else f" --baseline-model {Path(*args.baseline_model.parts[-3:])}"),
        "coverage": {
            "MeSH-lite only: train": coverage(mesh_only, train, is_train=False),
            "MeSH-lite only: dev": coverage(mesh_only, dev, is_train=False),
            "MeSH-lite + train mentions: train as trained (other fold's mentions)": coverage(with_train, train, True),
            "MeSH-lite + train mentions: dev at prediction (all train mentions)": coverage(with_train, dev, False),
            "MeSH-lite + train mentions: train without folds (the leak avoided)": coverage(with_train, train, False),
        },
        "runs": {name: eval_rows(Path(path)) for name, path in (log.split("=", 1) for log in args.log)},
        "baseline_best_dev": None if args.baseline_model is None else best_dev(args.baseline_model),
    }
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf8")
    for name, figures in results["coverage"].items():
        print(f"{name}: {100 * figures['mention_coverage']:.1f}% of {figures['mentions']} mentions; "
              f"{100 * figures['matched_tokens_in_mentions']:.1f}% of matched tokens inside mentions")
    for name, rows in results["runs"].items():
        print(name, rows)


if __name__ == "__main__":
    main()
