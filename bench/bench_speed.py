"""CPU inference speed on CDR test, side by side in one run (issue 13): our NER pipeline under its inference
settings, spaCy's transformer + ``ner`` (peer A), the Hugging Face ``token-classification`` pipeline over our
fine-tuned weights, and the bare encoder floor.

Every system reads the same 500 test abstracts (title + abstract as one text) and runs in a fresh process, so
its peak RSS is its own. The models are the ones ``bench/bench_ner.py`` trained (``bench/runs/ner/{ours,peer_a}``
``/model-best``; train them first). Rows:

* ours, as trained -- ``TransformerModel.v1``: windows of 128 tokens every 96, padded to the batch's longest;
* ours with ``TransformerModel.v2`` settings given at load time (``pipeline.inference.inference_overrides``, what
  ``spacy biobert optimize`` saves): windows sorted by length, other windows, int8 encoder;
* peer A as trained (spacy-transformers' ``Transformer`` + transition-based ``ner``);
* HF pipeline: our trained encoder and output layer exported as ``BertForTokenClassification`` (tags B/U -> B-,
  I/L -> I-), ``pipeline("token-classification", aggregation_strategy="first", stride=…)``: how the BioBERT
  papers deploy a tagger;
* floor: the encoder's forward pass alone (tokenisation included) over non-overlapping 128-wordpiece windows of
  the same texts, batches of 32 windows, ``torch.inference_mode``.

Words are whitespace-separated words of the texts (the same count for every row). F1 is the strict
character-offset F1 over all CDR test mentions (``scoring.ner.score_char_offsets``).

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``):
    python bench/bench_speed.py
"""
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import spacy
import torch

from spacy_biobert.cli.evaluate import gold_char_mentions
from spacy_biobert.corpus.pubtator import read_pubtator
from spacy_biobert.heap import bound_heap
from spacy_biobert.pipeline.inference import encoder_layers, inference_overrides
from spacy_biobert.pipeline.loading import load_pipeline
from spacy_biobert.scoring.ner import score_char_offsets

from common import ROOT, encoder_windows, machine, n_cores, results_parser, timed_pipe, utc_now, write_section

TITLE = "## Speed: CPU inference side by side"
SHIPPED_TITLE = "## Speed: the shipped pipeline on CPU"
CDR = ROOT / "assets" / "cdr"
# name -> (kind, model, inference settings for ``inference_overrides`` plus ``onnx``; None: as trained). Models:
# "ours"/"peer_a" under the NER runs folder, "ner"/"e2e" the shipped pipeline's NER stage and the whole pipeline.
SYSTEMS: Dict[str, Tuple[str, str, Optional[Dict]]] = {
    "ours, as trained (v1: windows 128/96)": ("spacy", "ours", None),
    "ours, sorted windows (v2 default)": ("spacy", "ours", {}),
    "ours, sorted, windows 128/112": ("spacy", "ours", {"window": 128, "stride": 112}),
    "ours, sorted, windows 256/224": ("spacy", "ours", {"window": 256, "stride": 224}),
    "ours, sorted, int8 (per-tensor scales)": ("spacy", "ours", {"int8": True, "int8_per_channel": False}),
    "ours, sorted, int8": ("spacy", "ours", {"int8": True}),
    "ours, sorted, windows 128/112, int8": ("spacy", "ours", {"window": 128, "stride": 112, "int8": True}),
    "ours, sorted, windows 256/224, int8": ("spacy", "ours", {"window": 256, "stride": 224, "int8": True}),
    "peer A: transformer + ner": ("spacy", "peer_a", None),
    "HF token-classification pipeline (our weights)": ("hf_pipeline", "ours", None),
    "floor: bare encoder, 128-wordpiece windows": ("floor", "ours", None),
}
#: Rows of the shipped table that other pages quote (BENCHMARKS.md's summary).
NER_DEFAULT, NER_ONNX_INT8 = "NER stage, fp32, sorted windows (default)", "NER stage, ONNX int8"
PEER_A = "peer A: transformer + ner (untrained weights)"
E2E_FP32, E2E_ONNX_INT8 = "end to end (NER + linker + relations), fp32", "end to end, ONNX int8"
#: ``--systems shipped``: the shipped pipeline (configs/e2e.cfg) and its NER stage under each encoder path.
SHIPPED: Dict[str, Tuple[str, str, Optional[Dict]]] = {
    "NER stage, fp32, unsorted windows": ("spacy", "ner", {"sort_windows": False}),
    NER_DEFAULT: ("spacy", "ner", {}),
    "NER stage, torch int8": ("spacy", "ner", {"int8": True}),
    "NER stage, ONNX fp32": ("spacy", "ner", {"onnx": "fp32"}),
    NER_ONNX_INT8: ("spacy", "ner", {"onnx": "int8"}),
    "NER stage, ONNX fp32, windows 128/112": ("spacy", "ner", {"onnx": "fp32", "window": 128, "stride": 112}),
    "NER stage, fp32, eager attention (SDPA off)": ("spacy", "ner", {"attention": "eager"}),
    "NER stage, fp32, sentence windows 96": ("spacy", "ner", {"sentence_windows": 96}),
    "NER stage, fp32, sentence windows 128": ("spacy", "ner", {"sentence_windows": 128}),
    "NER stage, ONNX int8, sentence windows 64": ("spacy", "ner", {"onnx": "int8", "sentence_windows": 64}),
    "NER stage, ONNX int8, sentence windows 96": ("spacy", "ner", {"onnx": "int8", "sentence_windows": 96}),
    "NER stage, ONNX int8, sentence windows 128": ("spacy", "ner", {"onnx": "int8", "sentence_windows": 128}),
    "NER stage, ONNX int8, sentence windows 256": ("spacy", "ner", {"onnx": "int8", "sentence_windows": 256}),
    PEER_A: ("peer_a", "", None),
    "floor: bare encoder, 128-wordpiece windows": ("floor", "ner", None),
    E2E_FP32: ("spacy", "e2e", {}),
    "end to end, ONNX fp32": ("spacy", "e2e", {"onnx": "fp32"}),
    E2E_ONNX_INT8: ("spacy", "e2e", {"onnx": "int8"}),
    "end to end, ONNX int8, PyTorch weights kept": ("spacy", "e2e", {"onnx": "int8", "keep_torch": True}),
    "end to end, fp32, sentence windows 128": ("spacy", "e2e", {"sentence_windows": 128}),
    "end to end, ONNX int8, sentence windows 128": ("spacy", "e2e", {"onnx": "int8", "sentence_windows": 128}),
    "end to end, one encoder (relation head on the NER's), fp32": ("spacy", "e2e_one_encoder", {}),
    "end to end, one encoder (relation head on the NER's), ONNX int8": ("spacy", "e2e_one_encoder", {"onnx": "int8"}),
    "end to end, fp32, heap bounded": ("spacy", "e2e", {"bound_heap": True}),
    "end to end, ONNX int8, heap bounded": ("spacy", "e2e", {"onnx": "int8", "bound_heap": True}),
}
ALL_SYSTEMS = {**SYSTEMS, **SHIPPED}


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM: unlike ``ru_maxrss``, not inherited across fork + exec)."""
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024


def split_texts(split: str, limit: int = 0) -> Tuple[List[str], List[str]]:
    """Ids and texts of a CDR split (the first ``limit`` documents when ``limit`` > 0)."""
    docs = list(read_pubtator(CDR / f"{split}.pubtator.gz"))[: limit or None]
    return [d.doc_id for d in docs], [d.text for d in docs]


def optimized_copy(model: Path, onnx: str, work: Path) -> Path:
    """``spacy biobert optimize MODEL --onnx ONNX`` into ``work``, in its own process (not timed), so the timed
    process loads the saved copy as a user would and its peak RSS holds no export."""
    out = work / f"{model.parent.name}-{model.name}-onnx-{onnx}"
    if not (out / "config.cfg").exists():
        subprocess.run([sys.executable, "-m", "spacy", "biobert", "optimize", str(model), str(out), "--onnx", onnx],
                       check=True, capture_output=True, text=True)
    return out


def run_spacy(model: Path, settings: Optional[Dict], ids: List[str], texts: List[str], batch_size: int,
              work: Path):
    """A saved pipeline under ``settings``, loaded as ``spacy biobert annotate`` loads it (``annotate_only``: an
    ONNX encoder's PyTorch weights freed). Settings besides ``inference_overrides``'s: ``onnx``, the copy ``spacy
    biobert optimize --onnx`` saves; ``keep_torch``, keep the PyTorch weights beside the ONNX encoder (as
    ``spacy.load`` does); ``bound_heap``, the C heap bounded first (:func:`spacy_biobert.heap.bound_heap`);
    ``attention``, the encoders rebuilt with that Hugging Face attention implementation (``"eager"``: no SDPA)."""
    settings = None if settings is None else dict(settings)
    onnx = settings.pop("onnx", None) if settings else None
    attention = settings.pop("attention", None) if settings else None
    keep_torch = settings.pop("keep_torch", False) if settings else False
    if settings and settings.pop("bound_heap", False):
        bound_heap()
    if onnx:
        model = optimized_copy(model, onnx, work)
    config = spacy.util.load_config(model / "config.cfg", interpolate=False)
    nlp = load_pipeline(model, annotate_only=not keep_torch,
                        config={} if settings is None else inference_overrides(config, **settings))
    if attention:
        set_attention(nlp, attention)
    return pipe_mentions(nlp, ids, texts, batch_size)


def pipe_mentions(nlp, ids: List[str], texts: List[str], batch_size: int) -> Tuple[float, set]:
    """Seconds to annotate ``texts`` (streamed, :func:`common.timed_pipe`) and their entities as (doc id, start char,
    end char, label)."""
    ents, seconds = timed_pipe(nlp, texts, batch_size, keep=lambda doc: [(e.start_char, e.end_char, e.label_)
                                                                         for e in doc.ents])
    return seconds, {(doc_id, *ent) for doc_id, doc_ents in zip(ids, ents) for ent in doc_ents}


def split_scores(mentions: set, split: str, ids: List[str]) -> Dict[str, float]:
    """Strict character-offset P / R / F of ``mentions`` against the gold mentions of the CDR ``split``'s ``ids``."""
    wanted = set(ids)
    gold = {m for m in gold_char_mentions(CDR / f"{split}.pubtator.gz") if m[0] in wanted}
    return score_char_offsets(mentions, gold)


def set_attention(nlp, implementation: str) -> None:
    """Rebuild every encoder of ``nlp`` with the Hugging Face attention ``implementation`` and the same weights
    (a measuring instrument: the pipeline's encoders use SDPA, transformers' default for BERT)."""
    for layer in encoder_layers(nlp):
        shim = layer.shims[0]
        old = shim._model
        new = type(old)._from_config(old.config, attn_implementation=implementation)
        new.load_state_dict(old.state_dict())
        shim._model = new.eval()


def export_token_classifier(model: Path, out: Path) -> Path:
    """Our trained encoder + output layer as a Hugging Face ``BertForTokenClassification`` folder."""
    from transformers import AutoModelForTokenClassification

    nlp = spacy.load(model)
    transformer = nlp.get_pipe("transformer").model
    encoder, tokenizer = transformer.transformer, transformer.tokenizer
    ner = nlp.get_pipe("biobert_ner")
    bio = {"B": "B", "U": "B", "I": "I", "L": "I"}
    id2label = {i: tag if tag == "O" else f"{bio[tag[0]]}-{tag[2:]}" for i, tag in enumerate(ner.tags)}
    config = encoder.config
    config.id2label, config.label2id = id2label, {}
    classifier = AutoModelForTokenClassification.from_config(config)
    getattr(classifier, classifier.base_model_prefix).load_state_dict(encoder.state_dict(), strict=False)
    layer = ner.output_layer()
    with torch.no_grad():
        classifier.classifier.weight.copy_(torch.as_tensor(layer.get_param("W")))
        classifier.classifier.bias.copy_(torch.as_tensor(layer.get_param("b")))
    classifier.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def run_hf_pipeline(model: Path, work: Path, ids: List[str], texts: List[str], batch_size: int):
    from transformers import pipeline

    folder = export_token_classifier(model, work / "hf_token_classifier")
    tagger = pipeline("token-classification", model=str(folder), aggregation_strategy="first", stride=64,
                      device="cpu")
    tagger(texts[:4], batch_size=batch_size)
    start = time.perf_counter()
    outputs = tagger(texts, batch_size=batch_size)
    seconds = time.perf_counter() - start
    mentions = {(doc_id, e["start"], e["end"], e["entity_group"]) for doc_id, ents in zip(ids, outputs) for e in ents}
    return seconds, mentions


def run_floor(model: Path, texts: List[str], batch_size: int, window: int = 128):
    """The encoder alone over non-overlapping windows of ``window`` wordpieces (special tokens included)."""
    nlp = spacy.load(model)
    transformer = nlp.get_pipe("transformer").model
    encoder, tokenizer = transformer.transformer.eval(), transformer.tokenizer
    start = time.perf_counter()
    windows = encoder_windows(tokenizer, texts, window)
    with torch.inference_mode():
        for i in range(0, len(windows), batch_size):
            batch = tokenizer.pad({"input_ids": windows[i:i + batch_size]}, return_tensors="pt")
            encoder(**batch)
    return time.perf_counter() - start, None


def run_peer_a(work: Path, texts: List[str], batch_size: int):
    """Peer A initialised, not trained: spaCy's ``ner`` takes one transition per token whatever its weights, so
    its speed is that of the trained model (no F1: the weights are random)."""
    from bench_ner import peer_config

    config = spacy.util.load_config(peer_config(work, work / "peer_a.log"))
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    for label in ("Chemical", "Disease"):
        nlp.get_pipe("ner").add_label(label)
    nlp.initialize()
    return timed_pipe(nlp, texts, batch_size, keep=lambda doc: None)[1], None


def run_case(name: str, work: Path, models: Dict[str, Path], batch_size: int, limit: int = 0,
             split: str = "test") -> Dict:
    """One system in this process; returns its measurements. ``models``: model key -> pipeline folder."""
    kind, system, settings = ALL_SYSTEMS[name]
    torch.set_num_threads(n_cores())
    model = models.get(system)
    ids, texts = split_texts(split, limit)
    if kind == "spacy":
        seconds, mentions = run_spacy(model, settings, ids, texts, batch_size, work)
    elif kind == "peer_a":
        seconds, mentions = run_peer_a(work, texts, batch_size)
    elif kind == "hf_pipeline":
        seconds, mentions = run_hf_pipeline(model, work, ids, texts, batch_size)
    else:
        seconds, mentions = run_floor(model, texts, batch_size)
    words = sum(len(text.split()) for text in texts)
    row = {"system": name, "docs": len(texts), "words": words, "seconds": round(seconds, 2), "words_per_s": round(words / seconds),
           "peak_rss_mb": round(peak_rss_mb())}
    if mentions is not None:
        scores = split_scores(mentions, split, ids)
        row.update(p=scores["p"], r=scores["r"], f=scores["f"])
    return row


def rss_note(results: Dict) -> str:
    """What the peak RSS column holds: runs since docs are streamed drop each doc once its entities are read."""
    if results.get("docs_held", True):
        return "Peak RSS holds every annotated doc (with the transformer's output on it) until the row ends."
    return ("Peak RSS of a stream: each doc's entities are read and the doc dropped, as `spacy biobert annotate` "
            "and the server do.")


def section(results: Dict, command: str) -> str:
    m = results["machine"]
    rows = results["rows"]
    floor = next((r for r in rows if r["system"].startswith("floor")), rows[0])
    peer = next((r for r in rows if r["system"].startswith("peer A")), rows[0])
    base = rows[0]
    lines = [
        TITLE, "",
        f"Command: `{command}` — date: {results['date']}. Machine: {m['nproc']} cores ({m['cpu']}), no GPU, torch "
        f"threads {results['threads']}, nlp.pipe batch {results['batch_size']} docs. Models: `bench/bench_ner.py` "
        f"`model-best` ({results['ner_steps']} steps), embedded MiniLM encoder. CDR test: {base['docs']} abstracts, "
        f"{base['words']:,} whitespace words. Each row is a fresh process run one after the other; F1 = strict "
        "character-offset F1 over all test mentions. " + rss_note(results),
        "",
        "| system | words/s | × peer A | × floor | peak RSS MB | test F1 | Δ F1 vs ours as trained |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        f1 = "–" if "f" not in r else f"{100 * r['f']:.2f}"
        delta = "–" if "f" not in r else f"{100 * (r['f'] - base['f']):+.2f}"
        lines.append(f"| {r['system']} | {r['words_per_s']:,} | {r['words_per_s'] / peer['words_per_s']:.2f} | "
                     f"{r['words_per_s'] / floor['words_per_s']:.2f} | {r['peak_rss_mb']:,} | {f1} | {delta} |")
    lines += across_runs()
    dev_file = ROOT / "bench" / "results" / "speed_dev.json"
    if dev_file.exists():
        dev = json.loads(dev_file.read_text(encoding="utf8"))
        lines += ["", f"Chosen on CDR dev (`{dev['command']}`, {dev['date']}, same machine): strict F1 on dev "
                  "for the settings that change scores:", "", "| system | dev words/s | dev F1 |", "| --- | --- | --- |"]
        lines += [f"| {r['system']} | {r['words_per_s']:,} | {100 * r['f']:.2f} |" for r in dev["rows"] if "f" in r]
    return "\n".join(lines) + "\n"


def across_runs() -> List[str]:
    """Words/s of every row in each kept run log (``bench/results/speed_run*.log``): how much timings move."""
    logs = sorted((ROOT / "bench" / "results").glob("speed_run*.log"))
    runs = [{r["system"]: r["words_per_s"] for r in map(json.loads, log.read_text().splitlines()) if r}
            for log in logs]
    if len(runs) < 2:
        return []
    names = [name for name in SYSTEMS if any(name in run for run in runs)]
    header = " | ".join(log.stem.replace("speed_", "") for log in logs)
    lines = ["", f"Timings on this shared 2-core machine move between runs (other work, thermal state). Words/s of "
             f"each row in the kept runs ({', '.join(f'`bench/results/{log.name}`' for log in logs)}; in run 1 "
             "every int8 row used per-tensor scales, the default before dev chose per-channel):", "",
             f"| system | {header} |", "| --- |" + " --- |" * len(logs)]
    lines += [f"| {name} | " + " | ".join(f"{run[name]:,}" if name in run else "–" for run in runs) + " |"
              for name in names]
    return lines


def shipped_section(results: Dict, f_runs: Dict[str, Dict]) -> str:
    """The ``--systems shipped`` table: words/s on the timed docs, ratios, and F1 of the full-split runs in
    ``f_runs`` (split -> results of an untimed ``--split`` run, whose words/s are not shown)."""
    rows = results["rows"]
    floor = next(r for r in rows if r["system"].startswith("floor"))
    peer = next(r for r in rows if r["system"].startswith("peer A"))
    default = next(r for r in rows if r["system"].endswith("(default)"))
    m = results["machine"]
    f_by_split = {split: {r["system"]: r.get("f") for r in run["rows"]} for split, run in f_runs.items()}
    base = {split: f[default["system"]] for split, f in f_by_split.items()}
    lines = [SHIPPED_TITLE, "",
             f"Command: `{results['command']}` — date: {results['date']}. Machine: {m['nproc']} cores ({m['cpu']}), "
             f"no GPU, torch threads {results['threads']}, nlp.pipe batch {results['batch_size']} docs. Words/s over "
             f"the first {default['docs']} CDR test abstracts ({default['words']:,} whitespace words), each row a fresh "
             "process, one after the other. " + rss_note(results), "",
             "| system | words/s | × peer A | × floor | peak RSS MB | " + " | ".join(
                 f"{split} F1 ({run['rows'][0]['docs']} docs) | Δ {split} F1" for split, run in f_runs.items()) + " |",
             "| --- | --- | --- | --- | --- |" + " --- | --- |" * len(f_runs)]
    for r in rows:
        cells = []
        for split, f in f_by_split.items():
            value = f.get(r["system"])
            cells += ["–", "–"] if value is None else [f"{100 * value:.2f}", f"{100 * (value - base[split]):+.2f}"]
        lines.append(f"| {r['system']} | {r['words_per_s']:,} | {r['words_per_s'] / peer['words_per_s']:.2f} | "
                     f"{r['words_per_s'] / floor['words_per_s']:.2f} | {r['peak_rss_mb']:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = results_parser(__doc__, "speed", "case")
    parser.add_argument("--systems", choices=("issue13", "shipped"), default="issue13",
                        help="shipped: the shipped pipeline (--ner-model, --e2e-model), results speed_shipped*.json")
    parser.add_argument("--ner-runs", type=Path, default=ROOT / "bench" / "runs" / "ner")
    parser.add_argument("--ner-model", type=Path, default=ROOT / "training" / "ner" / "model-best")
    parser.add_argument("--e2e-model", type=Path, default=ROOT / "training" / "e2e")
    parser.add_argument("--one-encoder-model", type=Path, default=ROOT / "training" / "e2e_one_encoder",
                        help="the shipped composition on one encoder, as `spacy project run one-encoder` "
                             "builds it (its rows are skipped when it is missing)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--only", nargs="*", help="systems to run (default: all)")
    parser.add_argument("--limit", type=int, default=0, help="first N documents only")
    parser.add_argument("--split", choices=("dev", "test"), default="test",
                        help="dev: choose settings (results file only, no BENCHMARKS.md section)")
    parser.add_argument("--f-only", action="store_true", help="shipped: an untimed F1 run, to speed_shipped_<split>.json")
    args = parser.parse_args()
    models = {"ours": args.ner_runs / "ours" / "model-best", "peer_a": args.ner_runs / "peer_a" / "model-best",
              "ner": args.ner_model, "e2e": args.e2e_model, "e2e_one_encoder": args.one_encoder_model}
    if args.case:
        print(json.dumps(run_case(args.case, args.work, models, args.batch_size, args.limit, args.split)))
        return
    systems = SHIPPED if args.systems == "shipped" else SYSTEMS
    if args.systems == "shipped" and args.out == ROOT / "bench" / "results" / "speed.json":
        args.out = args.out.with_name(f"speed_shipped_{args.split}.json" if args.f_only else "speed_shipped.json")
    # the scratch folder, a path of this machine, as a placeholder
    command = ("python bench/bench_speed.py " + " ".join(sys.argv[1:])).replace(str(args.work), "WORK").strip()
    if not args.section_only:
        args.work.mkdir(parents=True, exist_ok=True)
        rows = []
        for name in args.only or systems:
            if args.f_only and systems[name][0] != "spacy":
                continue
            model = models.get(systems[name][1])
            if model is not None and not (model / "config.cfg").exists():
                print(f"skipped {name!r}: no pipeline at {model}", flush=True)
                continue
            out = subprocess.run([sys.executable, __file__, "--case", name, "--work", str(args.work),
                                  "--ner-runs", str(args.ner_runs), "--ner-model", str(args.ner_model),
                                  "--e2e-model", str(args.e2e_model), "--one-encoder-model",
                                  str(args.one_encoder_model), "--batch-size", str(args.batch_size),
                                  "--limit", str(args.limit), "--split", args.split],
                                 check=True, capture_output=True, text=True, cwd=ROOT)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
        trained = spacy.util.load_config(models["ner" if args.systems == "shipped" else "ours"] / "config.cfg",
                                         interpolate=False)
        results = {"date": utc_now(), "machine": machine(), "threads": n_cores(), "batch_size": args.batch_size,
                   "ner_steps": trained["training"]["max_steps"], "command": command, "docs_held": False,
                   "rows": rows}
        if args.only and args.out.exists():  # some rows rerun: the file's other rows stay
            kept = json.loads(args.out.read_text(encoding="utf8"))
            results["rows"] = [r for r in kept["rows"] if r["system"] not in set(args.only)] + rows
            results["command"] = f"{kept['command']}; {command}"
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2), encoding="utf8")
    if args.split != "test" or args.systems == "shipped":
        return
    results = json.loads(args.out.read_text(encoding="utf8"))
    write_section(args.benchmarks, section(results, results["command"]), TITLE)


if __name__ == "__main__":
    main()
