"""Training on the GPU with ``spacy train --gpu-id`` (configs/ner.cfg, configs/rel.cfg) and test scores with the
CPU benchmarks' own evaluation (``bench_ner.evaluate``, ``bench_rel.evaluate``)."""
import json
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Dict

from spacy.training.batchers import minibatch_by_words

from common import ROOT, schedule_overrides, spacy_train
from gpu.data import gold_docs

BF16_CODE = Path(__file__).resolve().parent / "bf16_autocast.py"


def precision_overrides(precision: str) -> Dict[str, object]:
    """``spacy train`` overrides (and ``--code``) for fp32, fp16 (spacy-transformers' mixed precision, with its
    gradient scaler) or bf16 (the same autocast regions in bfloat16, no gradient scaling: bf16 has fp32's range)."""
    overrides: Dict[str, object] = {"components.transformer.model.mixed_precision": json.dumps(precision != "fp32")}
    if precision == "bf16":
        overrides["components.transformer.model.grad_scaler_config.enabled"] = "false"
        overrides["code"] = BF16_CODE
    return overrides


def batches_per_epoch(corpus: Path, batch_words: int) -> int:
    """Batches in one pass over train with rel.cfg's batcher (``batch_by_words``, tolerance 0.2, oversize kept)."""
    docs = gold_docs(corpus, "train")
    return sum(1 for _ in minibatch_by_words(docs, size=batch_words, tolerance=0.2, discard_oversize=False))


def log_tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(encoding="utf8", errors="replace").splitlines()[-lines:]) if log.exists() else ""


def train(config: str, output: Path, corpus: Path, budget: SimpleNamespace, extra: Dict, log: Path) -> Dict:
    """``spacy train configs/<config>`` with the budget (steps, eval frequency, batch words, learning rate) and
    ``extra`` overrides, stopped after ``budget.timeout_s``: then ``model-best`` is the last one saved."""
    overrides = {
        "paths.train": corpus / "train.spacy",
        "paths.dev": corpus / "dev.spacy",
        **schedule_overrides(budget),
        "training.optimizer.learn_rate.total_steps": budget.max_steps,
        **extra,
    }
    result = {"config": f"configs/{config}", "max_steps": budget.max_steps, "eval_frequency": budget.eval_frequency,
              "batch_words": budget.batch_words, "learn_rate": budget.learn_rate, "timed_out": False}
    try:
        result["train_s"] = spacy_train(ROOT / "configs" / config, output, overrides, log, timeout=budget.timeout_s)
    except subprocess.TimeoutExpired:
        result.update(timed_out=True, train_s=budget.timeout_s)
    except subprocess.CalledProcessError as err:  # the log tail says why; scoring then reports no model-best
        result.update(failed=f"spacy train exited {err.returncode}", train_s=None)
    result["log_tail"] = log_tail(log)
    return result


def ner_scores(output: Path, corpus: Path, pubtator: Path, batch_size: int) -> Dict:
    """``bench_ner.evaluate`` of ``output/model-best`` on test: P/R/F, strict character offsets, words/s."""
    from bench_ner import evaluate
    from spacy_biobert.cli.evaluate import gold_char_mentions

    return evaluate(output / "model-best", gold_docs(corpus), gold_char_mentions(pubtator / "test.pubtator.gz"),
                    batch_size)


def rel_scores(output: Path, corpus: Path, dev_docs: int, batch_size: int) -> Dict:
    """``bench_rel.evaluate`` (gold entities): threshold tuned on the first ``dev_docs`` dev documents, test P/R/F."""
    from bench_rel import evaluate

    args = SimpleNamespace(dev_docs=dev_docs, test_docs=0, batch_size=batch_size, speed_docs=0)
    return evaluate("ours_gold", output / "model-best", corpus, args)
