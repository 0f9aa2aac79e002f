"""Entity-linking benchmark on BioCreative V CDR with gold mentions: what each linker step is worth.

``python bench/bench_linker.py`` links the gold mentions of CDR (labels kept, ids removed) with ``biobert_linker`` and
scores document-level normalisation (BioCreative DNER style: per document the set of (label, concept id)), for a
chain of settings each adding one step to the previous: exact lower-cased match (baseline), normalisation
(NFKC, punctuation), plural stripping, abbreviations, TF-IDF fallback, one id per string. A step is kept in the
chain only if it raises dev F; the TF-IDF threshold and n-gram range are chosen on dev. Dev runs use a KB from
train, test runs a KB from train+dev; each chain is run with the corpus KB alone and with MeSH-lite added.
Then, in a fresh process: KB build time, size on disk, load time and RSS with MeSH loaded. Results go to
``bench/results/linker.json`` and the "Entity linking" section of BENCHMARKS.md.

``python bench/bench_linker.py --ner MODEL`` links the mentions MODEL's NER predicts on CDR test instead (end to end).
"""
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example

from common import ROOT, machine, pct, utc_now, write_section
from spacy_biobert.cli.convert import conversion_nlp
from spacy_biobert.corpus import ConversionStats, build_docs, read_pubtator
from spacy_biobert.kb import KnowledgeBase, get_link_candidates, kb_from_corpus, kb_from_mesh_lite
from spacy_biobert.scoring.linker import score_linking

CDR = ROOT / "assets" / "cdr"
RESULTS = ROOT / "bench" / "results" / "linker.json"
THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
NGRAMS = ((3, 3), (2, 4))
BASE = {"unicode": False, "punctuation": False, "plurals": False, "abbreviations": False, "fuzzy": False,
        "consistent": False, "threshold": 0.0, "ngram_range": [3, 3]}
STEPS = [("exact lower-cased match (baseline)", {}), ("+ normalisation (NFKC, punctuation)", {"unicode": True, "punctuation": True}),
         ("+ plural stripping", {"plurals": True}), ("+ abbreviations", {"abbreviations": True}),
         ("+ TF-IDF fallback", {"fuzzy": True}), ("+ one id per string", {"consistent": True})]


def gold_docs(split: str) -> List[Doc]:
    """The converted CDR split, gold mentions with ids on ``doc.ents``."""
    return build_docs(conversion_nlp(), read_pubtator(CDR / f"{split}.pubtator.gz"), ConversionStats())


def unlinked(doc: Doc) -> Doc:
    """A copy of ``doc`` whose entities keep span and label but no id."""
    copy = doc.copy()
    copy.set_ents([Span(copy, e.start, e.end, e.label_) for e in doc.ents], default="unmodified")
    return copy


def link(kb: KnowledgeBase, settings: Dict, gold: List[Doc]) -> Tuple[List[Doc], float]:
    """Run the linker with ``settings`` (threshold 0: every best candidate kept); return docs and seconds/doc."""
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_linker", config={**settings, "threshold": 0.0}).set_kb(kb)
    inputs = [unlinked(doc) for doc in gold]
    nlp.get_pipe("biobert_linker").matcher  # noqa: B018 -- index built outside the timing
    start = time.perf_counter()
    docs = list(nlp.pipe(inputs))
    return docs, (time.perf_counter() - start) / max(1, len(docs))


def scores_at(docs: List[Doc], gold: List[Doc], threshold: float) -> Dict:
    """Linker scores when ``kb_id_`` is the best candidate scoring at least ``threshold``."""
    for doc in docs:
        store = get_link_candidates(doc)
        doc.set_ents([Span(doc, e.start, e.end, e.label_, kb_id=_best(store.get((e.start_char, e.end_char)), threshold))
                      for e in doc.ents], default="unmodified")
    return score_linking([Example(p, g) for p, g in zip(docs, gold)])


def _best(candidates, threshold: float) -> str:
    return candidates[0][0] if candidates and candidates[0][1] >= threshold else ""


def summary(scores: Dict) -> Dict:
    per = scores["linker_doc_per_type"] or {}
    return {"f": scores["linker_doc_f"], "p": scores["linker_doc_p"], "r": scores["linker_doc_r"],
            "mention_acc": scores["linker_mention_acc"], **{f"f_{k}": v["f"] for k, v in per.items()}}


def best_variant(kb: KnowledgeBase, settings: Dict, dev: List[Doc]) -> Tuple[Dict, Dict]:
    """The settings (n-gram range, threshold when fuzzy) with the best dev F, and their dev scores."""
    options = []
    for ngrams in (NGRAMS if settings["fuzzy"] else NGRAMS[:1]):
        docs, _ = link(kb, {**settings, "ngram_range": list(ngrams)}, dev)
        for threshold in (THRESHOLDS if settings["fuzzy"] else (0.0,)):
            options.append((summary(scores_at(docs, dev, threshold)), {**settings, "ngram_range": list(ngrams),
                                                                       "threshold": threshold}))
    scores, chosen = max(options, key=lambda item: item[0]["f"])
    return chosen, scores


def chain(kb_dev: KnowledgeBase, kb_test: KnowledgeBase, dev: List[Doc], test: List[Doc]) -> List[Dict]:
    """Run the step chain; each step is kept if it raises dev F."""
    rows, current, best_dev = [], dict(BASE), -1.0
    for name, change in STEPS:
        chosen, dev_scores = best_variant(kb_dev, {**current, **change}, dev)
        kept = dev_scores["f"] > best_dev
        docs, per_doc = link(kb_test, chosen, test)
        test_scores = summary(scores_at(docs, test, chosen["threshold"]))
        rows.append({"step": name, "kept": kept, "settings": chosen, "dev": dev_scores, "test": test_scores,
                     "ms_per_doc": 1000 * per_doc})
        print(f"{name:45s} kept={kept!s:5s} dev F {pct(dev_scores['f'])} test F {pct(test_scores['f'])} "
              f"({1000 * per_doc:.2f} ms/doc) {chosen}", flush=True)
        if kept:
            current, best_dev = chosen, dev_scores["f"]
    return rows


def build_kb(splits: Tuple[str, ...], mesh: bool) -> KnowledgeBase:
    kb = KnowledgeBase()
    for split in splits:
        kb_from_corpus(CDR / f"{split}.pubtator.gz", kb)
    return kb_from_mesh_lite(kb) if mesh else kb


def rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024


def resources(folder: Path) -> Dict:
    """KB build (train+dev+MeSH-lite), size, load and index time, RSS; run in a fresh process."""
    start = time.perf_counter()
    kb = build_kb(("train", "dev"), mesh=True)
    built = time.perf_counter() - start
    kb.to_disk(folder)
    size = sum(p.stat().st_size for p in folder.iterdir())
    before = rss_mb()
    start = time.perf_counter()
    loaded = KnowledgeBase.from_disk(folder)
    load = time.perf_counter() - start
    nlp = spacy.blank("en")
    linker = nlp.add_pipe("biobert_linker")
    linker.set_kb(loaded)
    start = time.perf_counter()
    for label in ("Chemical", "Disease"):
        linker.matcher._fuzzy_index(label)
    index = time.perf_counter() - start
    return {"build_s": built, "size_mb": size / 1e6, "load_s": load, "index_s": index, "concepts": len(loaded),
            "names": loaded.n_names, "rss_before_mb": before, "rss_after_mb": rss_mb(),
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


E2E_TITLE = "## Entity linking end to end (CDR test, our NER's mentions)"


def end_to_end(ner_path: Path) -> Dict:
    """Our NER's mentions linked by the exact lower-cased baseline and by variants of the final chain (settings of
    its last kept step, with higher TF-IDF thresholds or no TF-IDF), chosen on dev end to end (KB train+MeSH),
    reported on test (KB train+dev+MeSH); linker time as a share of the NER pipeline's time."""
    saved = json.loads(RESULTS.read_text())
    final = [row for row in saved["chains"]["corpus + MeSH-lite"] if row["kept"]][-1]["settings"]
    variants = {"exact lower-cased match (baseline)": BASE}
    variants.update({f"final chain, TF-IDF threshold {t}": {**final, "threshold": t} for t in (final["threshold"], 0.9, 0.95)})
    variants["final chain without TF-IDF"] = {**final, "fuzzy": False, "threshold": 0.0}
    ner = spacy.load(ner_path, exclude=["biobert_linker", "biobert_rel"])
    results: Dict = {"date": utc_now(), "machine": machine(), "ner_model": str(ner_path), "splits": {}}
    for split, kb_splits in (("dev", ("train",)), ("test", ("train", "dev"))):
        gold, kb = gold_docs(split), build_kb(kb_splits, mesh=True)
        start = time.perf_counter()
        predicted = list(ner.pipe(doc.text for doc in gold))
        ner_s = (time.perf_counter() - start) / len(gold)
        rows = {}
        for name, settings in variants.items():
            docs, per_doc = link(kb, settings, predicted)
            rows[name] = {**summary(scores_at(docs, gold, settings["threshold"])), "ms_per_doc": 1000 * per_doc,
                          "share_of_pipeline": per_doc / (ner_s + per_doc)}
        results["splits"][split] = {"ner_s_per_doc": ner_s, "rows": rows}
    results["chosen_on_dev"] = max(variants, key=lambda name: results["splits"]["dev"]["rows"][name]["f"])
    return results


def e2e_section(results: Dict, command: str) -> str:
    """The BENCHMARKS.md section of :func:`end_to_end`."""
    m, test = results["machine"], results["splits"]["test"]
    lines = [E2E_TITLE, "", f"Command: `{command}` — date: {results['date']}. Machine: {m['nproc']} cores ({m['cpu']}), "
             f"no GPU. Mentions: the NER of `{results['ner_model']}` ({1000 * test['ner_s_per_doc']:.0f} ms/doc on test); "
             "KB train+MeSH-lite for dev, train+dev+MeSH-lite for test; document-level normalisation against gold "
             "(wrong or missed mentions cost recall and precision). Share = linker time / (NER pipeline + linker time).",
             "", "| linker | dev F | test P | test R | test F | test F Chemical | test F Disease | ms/doc | share |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in test["rows"].items():
        dev_f = results["splits"]["dev"]["rows"][name]["f"]
        mark = " (chosen on dev)" if name == results["chosen_on_dev"] else ""
        lines.append(f"| {name}{mark} | {pct(dev_f)} | {pct(r['p'])} | {pct(r['r'])} | {pct(r['f'])} | "
                     f"{pct(r.get('f_Chemical'))} | {pct(r.get('f_Disease'))} | {r['ms_per_doc']:.2f} | "
                     f"{100 * r['share_of_pipeline']:.1f} % |")
    return "\n".join(lines) + "\n"


def main() -> None:
    if sys.argv[1:2] == ["--ner"]:  # end to end with the NER of a trained pipeline
        results = end_to_end(Path(sys.argv[2]))
        (ROOT / "bench" / "results" / "linker_e2e.json").write_text(json.dumps(results, indent=2), encoding="utf8")
        write_section(ROOT / "BENCHMARKS.md", e2e_section(results, f"python bench/bench_linker.py --ner {sys.argv[2]}"),
                      E2E_TITLE)
        return
    if sys.argv[1:2] == ["--section-only"]:  # rewrite the BENCHMARKS.md section from the saved results
        write_section(ROOT / "BENCHMARKS.md", section(json.loads(RESULTS.read_text())), "## Entity linking (CDR, gold mentions)")
        return
    if sys.argv[1:2] == ["--resources"]:
        print(json.dumps(resources(Path(sys.argv[2]))))
        return
    dev, test = gold_docs("dev"), gold_docs("test")
    results = {"date": utc_now(), "machine": machine(), "chains": {}}
    for mesh in (False, True):
        name = "corpus + MeSH-lite" if mesh else "corpus"
        print(f"== KB: {name}", flush=True)
        results["chains"][name] = chain(build_kb(("train",), mesh), build_kb(("train", "dev"), mesh), dev, test)
    out = subprocess.run([sys.executable, __file__, "--resources", str(ROOT / "bench" / "results" / "linker_kb")],
                         check=True, capture_output=True, text=True).stdout
    results["resources"] = json.loads(out.strip().splitlines()[-1])
    RESULTS.write_text(json.dumps(results, indent=2), encoding="utf8")
    write_section(ROOT / "BENCHMARKS.md", section(results), "## Entity linking (CDR, gold mentions)")


def section(results: Dict) -> str:
    """The BENCHMARKS.md section."""
    m, r = results["machine"], results["resources"]
    lines = ["## Entity linking (CDR, gold mentions)", "",
             f"Command: `python bench/bench_linker.py` — date: {results['date']}. Machine: {m['nproc']} cores ({m['cpu']}), "
             "no GPU. Gold mentions of CDR with labels, ids removed; document-level normalisation P/R/F (per "
             "document the set of (label, MeSH id); ids -1 left out) and mention accuracy. Steps are cumulative; a "
             "step is kept only if it raises dev F (dev: KB from train); TF-IDF threshold and n-gram range chosen "
             "on dev. Test: KB from train+dev. Raw results: `bench/results/linker.json`.", ""]
    for name, rows in results["chains"].items():
        lines += [f"KB: {name}", "", "| step | kept | dev F | test P | test R | test F | test F Chemical | "
                  "test F Disease | test mention acc. | ms/doc |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for row in rows:
            t = row["test"]
            lines.append(f"| {row['step']} | {'yes' if row['kept'] else 'no'} | {pct(row['dev']['f'])} | {pct(t['p'])} | "
                         f"{pct(t['r'])} | {pct(t['f'])} | {pct(t.get('f_Chemical'))} | {pct(t.get('f_Disease'))} | "
                         f"{pct(t['mention_acc'])} | {row['ms_per_doc']:.2f} |")
        kept = [row for row in rows if row["kept"]][-1]
        verdict = "meets" if kept["test"]["f"] >= 0.90 else "misses"
        lines += ["", f"Final chain ({name}): test F {pct(kept['test']['f'])}, which {verdict} the 90.00 target.", ""]
    lines += [f"KB from train+dev+MeSH-lite ({r['concepts']} concepts, {r['names']} names): built in {r['build_s']:.1f} s, "
              f"{r['size_mb']:.2f} MB on disk, loaded in {r['load_s']:.2f} s, lookup + TF-IDF indexes for both labels "
              f"built in {r['index_s']:.1f} s; process RSS {r['rss_before_mb']:.0f} MB before loading, "
              f"{r['rss_after_mb']:.0f} MB after (peak {r['max_rss_mb']:.0f} MB, including the build)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
