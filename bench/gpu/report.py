"""Write the BENCHMARKS.md "GPU" section from the JSON files of bench/bench_gpu.py (or say it has not been run).

Usage: ``python bench/gpu/report.py [--results bench/results/gpu] [--benchmarks BENCHMARKS.md]``
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common

from common import ROOT, pct, write_section  # noqa: E402

TITLE = "## GPU"
TARGET, LIMIT = 100_000, 1_000_000
NOT_RUN = """\
**`bench/bench_gpu.py` not run yet.** Its parts (`env`, `throughput`, `train-ner`, `train-rel`; exact commands in
`bench/gpu/run_on_device.md`) have not run on a GPU, so inference throughput, GPU memory and mixed-precision
figures are still missing; only its code path was checked, on CPU with `--smoke` (tiny random BERT, 8 documents per
split, 2 training steps; `tests/bench/test_bench_gpu.py`). When it runs, this section is rewritten by
`python bench/gpu/report.py` from `bench/results/gpu/*.json`. Targets it will report against: ≥ 100,000 words/s end
to end on the BERT-base shape (BioBERT's) on an H100/H200; compute limit ≈ 1,000,000 words/s (the ratio will be
given). Training runs on an H100 (NER, relations, task-adaptive pretraining; fp32, `bench/gpu/wave.sh`) are in the
NER and Relations sections.
"""


def load(folder: Path) -> Dict[str, Dict]:
    """``gpu_<name>.json`` files of ``folder`` by name (``throughput``, ``train_ner_fp32``, …)."""
    return {p.stem[len("gpu_"):]: json.loads(p.read_text(encoding="utf8")) for p in sorted(folder.glob("gpu_*.json"))}


def device_line(result: Dict) -> str:
    d = result["device"]
    gpu = f"{d['gpu']} ({d['gpu_memory_gib']} GiB), CUDA {d['torch_cuda']}" if d.get("cuda") else "no GPU (CPU)"
    return (f"Device: {gpu}; torch {d['torch']}, spaCy {d['spacy']}, Python {d['python']}; host {d['nproc']} cores "
            f"({d['cpu']}).")


def mib(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def throughput_rows(t: Dict) -> List[str]:
    floors = {(f["encoder"], f["precision"]): f for f in t["floor"]}
    rows = []
    for r in t["runs"]:
        if "error" in r:
            rows.append(f"| {r['encoder']} | {r['precision']} | {r['batch_size']} | {r['max_batch_items']} | "
                        f"failed: {r['error'][:80]} | | | | | |")
            continue
        floor = floors.get((r["encoder"], r["precision"]))
        ratio = f"{floor['words_per_s'] / r['words_per_s']:.2f}" if floor else "–"
        rows.append(f"| {r['encoder']} | {r['precision']} | {r['batch_size']} | {r['max_batch_items']} | "
                    f"{r['words_per_s']:,.0f} | {r['wordpieces_per_s']:,.0f} | {mib(r['peak_gpu_mib'])} | {ratio} | "
                    f"{r['words_per_s'] / TARGET:.2f} | {r['words_per_s'] / LIMIT:.3f} |")
    return rows


def throughput_section(t: Dict) -> List[str]:
    best = max((r for r in t["runs"] if "words_per_s" in r and r["encoder"].startswith("bert-base")),
               key=lambda r: r["words_per_s"], default=None)
    verdict = ("no BERT-base run finished" if best is None else
               f"best BERT-base {best['words_per_s']:,.0f} words/s ({best['precision']}, batch {best['batch_size']}, "
               f"max_batch_items {best['max_batch_items']}): target ≥ {TARGET:,}: "
               f"{'met' if best['words_per_s'] >= TARGET else 'NOT met'}; "
               f"{best['words_per_s'] / LIMIT:.3f} of the ≈{LIMIT:,} words/s compute limit")
    floor_rows = [f"| {f['encoder']} | {f['precision']} | {f['window']} | {f['words_per_s']:,.0f} | "
                  f"{f['wordpieces_per_s']:,.0f} | {mib(f['peak_gpu_mib'])} |"
                  for f in t["floor"]]
    return [
        f"### Inference throughput ({t['date']})", "",
        f"Command: `{t['command']}`. Texts: {t['texts']} ({t['docs']} documents, {t['words']:,} words); pipeline "
        "`configs/ner.cfg` (transformer + `biobert_ner`, untrained head) through `nlp.pipe` with "
        "`spacy.require_gpu()`; fp16/bf16 = spacy-transformers `mixed_precision` (autocast) in that dtype. "
        f"{t['vocab_note']}. Floor = the Hugging Face forward pass alone over non-overlapping windows of the same "
        "texts (inputs already on the GPU); pipeline/floor = the pipeline's time over the floor's.", "",
        "| encoder | precision | docs/batch | max_batch_items | words/s | wordpieces/s | peak GPU MiB | pipeline / floor | / 100k target | / 1M limit |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *throughput_rows(t), "",
        "| floor: encoder | precision | window | words/s | wordpieces/s | peak GPU MiB |",
        "| --- | --- | --- | --- | --- | --- |",
        *floor_rows, "",
        f"Verdict: {verdict}." + (f" Skipped: {'; '.join(t['skipped'])}." if t["skipped"] else ""), "",
    ]


def training_row(name: str, r: Dict) -> str:
    test = r.get("test", {})
    if "error" in test:
        scores, speed = f"failed: {test['error'][:80]}", "–"
    elif "ents_f" in test:
        scores = f"{pct(test['ents_p'])} / {pct(test['ents_r'])} / **{pct(test['ents_f'])}** (entities)"
        speed = f"{test['words_per_s']:,.0f}"
    else:
        t = test["test"]
        scores = f"{pct(t['p'])} / {pct(t['r'])} / **{pct(t['f'])}** (CID, t={t['threshold']})"
        speed = "–"
    epochs = f" ({r['epochs']} epochs)" if "epochs" in r else ""
    wall = r.get("failed") or f"{r['train_s'] / 60:.1f} min" + (" (stopped by time limit)" if r["timed_out"] else "")
    return f"| `{r['config']}` | {r['precision']} | {r['max_steps']}{epochs} | {wall} | {scores} | {speed} |"


def training_section(results: Dict[str, Dict]) -> List[str]:
    runs = {k: v for k, v in results.items() if k.startswith("train_")}
    if not runs:
        return []
    first = next(iter(runs.values()))
    return [
        "### Training on the GPU", "",
        f"`spacy train … --gpu-id 0` on CDR train, encoder `{first['encoder']}`, batches of {first['batch_words']} "
        f"words, peak learning rate {first['learn_rate']}, `model-best` (chosen on dev) scored on CDR test with the "
        "CPU benchmarks' evaluation (`bench_ner.evaluate`, `bench_rel.evaluate`: gold entities, threshold tuned on dev).",
        "",
        "| config | precision | steps | training wall time | test P / R / F | test inference words/s |",
        "| --- | --- | --- | --- | --- | --- |",
        *(training_row(k, v) for k, v in runs.items()), "",
    ]


def section(results: Dict[str, Dict]) -> str:
    """The whole "GPU" section."""
    if not results:
        return "\n".join([TITLE, "", NOT_RUN])
    any_result = next(iter(results.values()))
    lines = [TITLE, ""]
    if any(r.get("smoke") for r in results.values()):
        lines += ["**SMOKE RUN (`--smoke`): a code-path check with a tiny random BERT, not a GPU measurement.**", ""]
    lines += [device_line(any_result), ""]
    if "throughput" in results:
        lines += throughput_section(results["throughput"])
    lines += training_section(results)
    encoders = results.get("throughput", {}).get("encoders", {})
    packed = next((e["packed"] for e in encoders.values() if e.get("packed")), None)
    if packed:
        lines += [f"MiniLM as carried to the GPU machine: {packed['note']} ({packed['embedding_rows_kept']} of "
                  f"{packed['embedding_rows']} rows kept).", ""]
    lines.append("Raw results: `bench/results/gpu/`.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "gpu")
    parser.add_argument("--benchmarks", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    write_section(args.benchmarks, section(load(args.results)), TITLE)
    print(section(load(args.results)))


if __name__ == "__main__":
    main()
