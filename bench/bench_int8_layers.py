"""int8 by layer type (issue 23): which of the encoder's weight matrices tolerate dynamic int8, measured on CDR dev.

The shipped NER stage's encoder is exported to ONNX once, fused as ``spacy biobert optimize --onnx`` fuses it
(:func:`spacy_biobert.models.onnx_encoder.export_onnx`), then quantised dynamically by ONNX Runtime (int8 weights,
one scale per output channel, as ``--onnx int8``) for each set of operator types in :data:`VARIANTS`:

* ``Attention``: the fused self-attention (its query / key / value projections);
* ``MatMul``: the other weight matrices (attention output, feed-forward in and out);
* ``EmbedLayerNormalization``, ``Gather``: the embedding tables;
* ONNX Runtime's default (what ``--onnx int8`` ships): every type it can quantise.

Each row: strict character-offset NER F1 on all 500 dev abstracts, then words/s over the first 200 test abstracts,
in one process, one row after the other, the ONNX session of the row's model only.

Usage (heavy: run it under ``flock`` on ``common.CPU_LOCK``):
    python bench/bench_int8_layers.py [--model training/ner/model-best]
"""
import argparse
import collections
import json
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch

from spacy_biobert.models.onnx_encoder import ONNX_ATTR, ONNX_KIND_ATTR, export_onnx
from spacy_biobert.pipeline.inference import encoder_layers
from spacy_biobert.pipeline.loading import load_pipeline

from bench_speed import pipe_mentions, split_scores, split_texts
from common import ROOT, machine, n_cores, timed_pipe, utc_now

TITLE = "## int8 by layer type"
#: row -> operator types quantised (None: none, fp32; "default": ONNX Runtime's every quantisable type)
VARIANTS: Dict[str, Optional[Tuple[str, ...]]] = {
    "fp32 (nothing quantised)": None,
    "attention projections only (Attention)": ("Attention",),
    "other weight matrices only (MatMul)": ("MatMul",),
    "all weight matrices (Attention + MatMul), embeddings fp32": ("Attention", "MatMul"),
    "ONNX Runtime's default, embeddings too (`--onnx int8`)": ("default",),
}


def quantise(model: bytes, op_types: Tuple[str, ...]) -> bytes:
    """``model`` (a serialized ONNX encoder) with dynamically quantised weights of ``op_types``."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        source.write_bytes(model)
        quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=None if op_types == ("default",) else list(op_types),
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        return out.read_bytes()


def op_counts(model: bytes) -> Dict[str, int]:
    """How many nodes of each operator type ``model`` has."""
    import onnx

    return dict(collections.Counter(node.op_type for node in onnx.load_from_string(model).graph.node))


def measure(model: Path, limit: int) -> Dict:
    torch.set_num_threads(n_cores())
    nlp = load_pipeline(model)
    (layer,) = encoder_layers(nlp)
    fp32 = export_onnx(layer.shims[0].module, "fp32")
    dev_ids, dev_texts = split_texts("dev")
    _, texts = split_texts("test", limit)
    words = sum(len(text.split()) for text in texts)
    rows = []
    for name, op_types in VARIANTS.items():
        onnx_model = fp32 if op_types is None else quantise(fp32, op_types)
        layer.attrs[ONNX_ATTR], layer.attrs[ONNX_KIND_ATTR] = onnx_model, "fp32" if op_types is None else "int8"
        dev_f = split_scores(pipe_mentions(nlp, dev_ids, dev_texts, 32)[1], "dev", dev_ids)["f"]
        _, seconds = timed_pipe(nlp, texts, 32, keep=lambda doc: len(doc.ents))
        rows.append({"system": name, "op_types": op_types, "dev_f": dev_f, "words_per_s": round(words / seconds),
                     "onnx_mb": round(len(onnx_model) / 2**20, 1), "ops": op_counts(onnx_model)})
        print(json.dumps(rows[-1]), flush=True)
    return {"date": utc_now(), "machine": machine(), "threads": n_cores(), "model": str(model.relative_to(ROOT))
            if model.is_relative_to(ROOT) else model.name, "speed_docs": limit, "speed_words": words, "rows": rows}


def section(results: Dict) -> str:
    rows = results["rows"]
    base = rows[0]
    m = results["machine"]
    lines = [TITLE, "",
             f"Date: {results['date']}. Machine: {m['nproc']} cores ({m['cpu']}), no GPU, torch and ONNX Runtime "
             f"threads {results['threads']}. The NER stage of the shipped pipeline, its encoder in ONNX Runtime; dev F1 "
             f"over all 500 CDR dev abstracts (strict character offsets), words/s over the first "
             f"{results['speed_docs']} test abstracts ({results['speed_words']:,} words), one process.", "",
             "| int8 weights | dev F1 | Δ dev F1 vs fp32 | words/s | × fp32 | ONNX model MB |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['system']} | {100 * r['dev_f']:.2f} | {100 * (r['dev_f'] - base['dev_f']):+.2f} | "
                     f"{r['words_per_s']:,} | {r['words_per_s'] / base['words_per_s']:.2f} | {r['onnx_mb']} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "training" / "ner" / "model-best")
    parser.add_argument("--limit", type=int, default=200, help="test documents for words/s")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "int8_layers.json")
    args = parser.parse_args(argv)
    results = measure(args.model.resolve(), args.limit)
    results["command"] = ("python bench/bench_int8_layers.py " + " ".join(sys.argv[1:] if argv is None else argv)).strip()
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf8")
    print(section(results))


if __name__ == "__main__":
    main()
