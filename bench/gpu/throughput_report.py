"""The BENCHMARKS.md "GPU" section: what the ``throughput`` job of bench/bench_gpu.py measured (or that it has not
run yet), from ``gpu_*.json`` in bench/results/gpu/; bench/report_topics.py places it."""
import json
from pathlib import Path
from typing import Dict, List

TITLE = "## GPU"
TARGET, LIMIT = 100_000, 1_000_000
NOT_RUN = """\
**The `throughput` job of `bench/bench_gpu.py` has not run on a GPU yet** (exact commands in
`bench/gpu/run_on_device.md`), so inference throughput, GPU memory and mixed-precision figures are still missing;
only its code path was checked, on CPU with `--smoke` (tiny random BERTs, 8 documents per split;
`tests/bench/test_bench_gpu.py`). When it runs, `python bench/report.py` renders this section from
`bench/results/gpu/*.json`. It will report, per precision (fp32, fp16, bf16) and batch size: words/s end to end of
the shipped pipeline (`training/e2e`) and of `configs/ner.cfg` on the embedded MiniLM and on a random BERT-base
(BioBERT's shape), GPU peak memory, and the ratio to the encoders' forward pass alone on the same card; targets:
≥ 100,000 words/s end to end on the BERT-base shape on an H100/H200, compute limit ≈ 1,000,000 words/s. Training
runs on an H100 (NER, relations, task-adaptive pretraining; fp32, the training jobs of `bench/bench_gpu.py`) are in
the NER and Relations sections.
"""


def load(folder: Path) -> Dict[str, Dict]:
    """``gpu_<name>.json`` files of ``folder`` by name (``env``, ``throughput``)."""
    return {p.stem[len("gpu_"):]: json.loads(p.read_text(encoding="utf8")) for p in sorted(folder.glob("gpu_*.json"))}


def device_line(result: Dict) -> str:
    d = result["device"]
    gpu = f"{d['gpu']} ({d['gpu_memory_gib']} GiB), CUDA {d['torch_cuda']}" if d.get("cuda") else "no GPU (CPU)"
    return (f"Device: {gpu}; torch {d['torch']}, spaCy {d['spacy']}, Python {d['python']}; host {d['nproc']} cores "
            f"({d['cpu']}).")


def mib(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def run_rows(t: Dict) -> List[str]:
    floors = {(f["system"], f["precision"]): f for f in t["floor"]}
    rows = []
    for r in t["runs"]:
        head = f"| {r['system']} | {r['precision']} | {r['batch_size']} | {r['max_batch_items']} |"
        if "error" in r:
            rows.append(f"{head} failed: {r['error'][:80]} | | | | | |")
            continue
        floor = floors.get((r["system"], r["precision"]))
        ratio = f"{floor['words_per_s'] / r['words_per_s']:.2f}" if floor else "–"
        rows.append(f"{head} {r['words_per_s']:,.0f} | {r['wordpieces_per_s']:,.0f} | {mib(r['peak_gpu_mib'])} | "
                    f"{ratio} | {r['words_per_s'] / TARGET:.2f} | {r['words_per_s'] / LIMIT:.3f} |")
    return rows


def throughput_section(t: Dict) -> List[str]:
    best = max((r for r in t["runs"] if "words_per_s" in r and "bert-base" in r["system"]),
               key=lambda r: r["words_per_s"], default=None)
    verdict = ("no BERT-base run finished" if best is None else
               f"best BERT-base {best['words_per_s']:,.0f} words/s ({best['precision']}, batch {best['batch_size']}, "
               f"max_batch_items {best['max_batch_items']}): target ≥ {TARGET:,}: "
               f"{'met' if best['words_per_s'] >= TARGET else 'NOT met'}; "
               f"{best['words_per_s'] / LIMIT:.3f} of the ≈{LIMIT:,} words/s compute limit")
    shapes = "; ".join(f"{label}: " + ", ".join(f"{e['layers']} layers × {e['hidden']}, vocabulary {e['vocab_size']:,}"
                                                 for e in s["encoders"]) for label, s in t["systems"].items())
    floor_rows = [f"| {f['system']} | {f['precision']} | {f['encoders']} | {f['words_per_s']:,.0f} | "
                  f"{f['wordpieces_per_s']:,.0f} | {mib(f['peak_gpu_mib'])} |" for f in t["floor"]]
    return [
        f"### Inference throughput ({t['date']})", "",
        f"Command: `{t['command']}`. Texts: {t['texts']} ({t['docs']} documents, {t['words']:,} words) through "
        "`nlp.pipe` with `spacy.require_gpu()`; fp16/bf16 = spacy-transformers `mixed_precision` (autocast) in that "
        f"dtype. Encoders: {shapes}. The random BERT-base uses the MiniLM's uncased WordPiece vocabulary cut to "
        "BioBERT's size. Floor = the system's encoders' forward pass alone over non-overlapping windows of the same "
        "texts (inputs already on the GPU); pipeline/floor = the pipeline's time over the floor's.", "",
        "| system | precision | docs/batch | max_batch_items | words/s | wordpieces/s | peak GPU MiB | pipeline / floor | / 100k target | / 1M limit |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *run_rows(t), "",
        "| floor: system | precision | encoders | words/s | wordpieces/s | peak GPU MiB |",
        "| --- | --- | --- | --- | --- | --- |",
        *floor_rows, "",
        f"Verdict: {verdict}." + (f" Skipped: {'; '.join(t['skipped'])}." if t["skipped"] else ""), "",
    ]


def section(results: Dict[str, Dict]) -> str:
    """The whole "GPU" section."""
    if "throughput" not in results:
        return "\n".join([TITLE, "", NOT_RUN])
    t = results["throughput"]
    lines = [TITLE, ""]
    if t.get("smoke"):
        lines += ["**SMOKE RUN (`--smoke`): a code-path check with tiny random BERTs, not a GPU measurement.**", ""]
    lines += [device_line(t), "", *throughput_section(t)]
    packed = next((e["packed"] for s in t["systems"].values() for e in s["encoders"] if e.get("packed")), None)
    if packed:
        lines += [f"MiniLM as carried to the GPU machine: {packed['note']} ({packed['embedding_rows_kept']} of "
                  f"{packed['embedding_rows']} rows kept).", ""]
    lines.append("Raw results: `bench/results/gpu/`.")
    return "\n".join(lines) + "\n"
