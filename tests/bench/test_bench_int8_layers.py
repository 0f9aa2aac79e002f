"""bench/bench_int8_layers.py: each row quantises the operator types it names and leaves the others fp32."""
import pytest
import spacy

from spacy_biobert.pipeline.inference import encoder_layers
from tests.util import import_bench_script

pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def bench(monkeypatch):
    """``bench/bench_int8_layers.py`` imported as the scripts import it (``bench/`` first on ``sys.path``)."""
    return import_bench_script(monkeypatch, "bench_int8_layers", "bench_speed", "common")


def test_each_variant_quantises_only_its_operator_types(bench, saved_ner_model):
    from spacy_biobert.models.onnx_encoder import export_onnx

    (layer,) = encoder_layers(spacy.load(saved_ner_model))
    fp32 = export_onnx(layer.shims[0].module, "fp32")
    ops = bench.op_counts(fp32)
    assert ops.get("Attention") and ops.get("MatMul") and not ops.get("DynamicQuantizeLinear")
    attention = bench.op_counts(bench.quantise(fp32, ("Attention",)))
    assert attention.get("QAttention") == ops["Attention"] and attention.get("MatMul") == ops["MatMul"]
    matmul = bench.op_counts(bench.quantise(fp32, ("MatMul",)))
    assert matmul.get("Attention") == ops["Attention"] and matmul.get("MatMulInteger") and not matmul.get("QAttention")
    default = bench.op_counts(bench.quantise(fp32, ("default",)))
    assert default.get("QAttention") == ops["Attention"] and default.get("MatMulInteger") == matmul["MatMulInteger"]


def test_the_section_reports_each_row_against_fp32(bench):
    rows = [{"system": name, "dev_f": f, "words_per_s": w, "onnx_mb": 1.0}
            for name, f, w in (("fp32", 0.8, 1000), ("int8", 0.79, 2000))]
    text = bench.section({"date": "d", "machine": {"nproc": 2, "cpu": "cpu"}, "threads": 2, "speed_docs": 3,
                          "speed_words": 1234, "rows": rows})
    assert "| int8 | 79.00 | -1.00 | 2,000 | 2.00 | 1.0 |" in text and "1,234 words" in text
