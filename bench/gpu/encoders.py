"""The encoders of the GPU benchmark: the embedded MiniLM (or its packed copy on the GPU machine) and randomly
initialised BERTs of a given shape, written with ``save_pretrained`` (throughput does not depend on weights)."""
import shutil
from pathlib import Path
from typing import Dict, Optional

from spacy_biobert.models.encoder import EMBEDDED_ENCODER, resolve_encoder_name

#: BERT shapes: BioBERT v1.2 (dmis-lab/biobert-base-cased-v1.2) is BERT-base; MiniLM-L6 is the embedded
#: encoder; "tiny" is the tests' fixture shape (tests/util.py), for --smoke.
SHAPES: Dict[str, Dict[str, int]] = {
    "bert-base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072},
    "minilm-l6": {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536},
    "tiny": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 37},
}
BIOBERT_VOCAB = "cased WordPiece, 28996 entries"
TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def minilm_dir(path: Optional[Path]) -> Path:
    """The MiniLM checkpoint folder: ``path`` (the packed copy on the GPU machine) or the installed package's."""
    return Path(path) if path else Path(resolve_encoder_name(EMBEDDED_ENCODER))


def random_bert(folder: Path, shape: str, vocab_dir: Path, seed: int = 0) -> Path:
    """Write a randomly initialised ``BertModel`` of ``SHAPES[shape]`` with the tokenizer files of ``vocab_dir``.

    The vocabulary size is that of ``vocab_dir``'s ``vocab.txt`` (BioBERT's own cased vocabulary, 28996
    entries, is not available offline); the embedding table's size does not change the cost per wordpiece.
    """
    import torch
    from transformers import BertConfig, BertModel

    if (folder / "config.json").exists():
        return folder
    vocab_size = sum(1 for _ in (vocab_dir / "vocab.txt").open(encoding="utf8"))
    config = BertConfig(vocab_size=vocab_size, max_position_embeddings=512, **SHAPES[shape])
    folder.mkdir(parents=True, exist_ok=True)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        BertModel(config).save_pretrained(str(folder))
    for name in TOKENIZER_FILES:
        if (vocab_dir / name).exists():
            shutil.copy(vocab_dir / name, folder / name)
    return folder


def describe(folder: Path) -> Dict:
    """Shape, parameter counts and vocabulary of the checkpoint in ``folder``, for the results file."""
    import json

    config = json.loads((folder / "config.json").read_text(encoding="utf8"))
    hidden, layers, inter = config["hidden_size"], config["num_hidden_layers"], config["intermediate_size"]
    per_layer = 4 * hidden * hidden + 4 * hidden + 2 * hidden * inter + inter + hidden + 4 * hidden
    lower = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf8")).get("do_lower_case")
    packed = folder / "pack_info.json"
    return {"packed": json.loads(packed.read_text(encoding="utf8")) if packed.exists() else None,
        "folder": str(folder), "hidden": hidden, "layers": layers, "heads": config["num_attention_heads"],
        "intermediate": inter, "vocab_size": config["vocab_size"], "lowercase_vocab": lower,
        "encoder_layer_params": layers * per_layer,
    }


def flops_per_wordpiece(info: Dict, seq_len: float) -> float:
    """Forward FLOPs per wordpiece: 2 per weight of the layers, plus attention scores and mixing (4 x seq x hidden
    per layer). An estimate for the achieved-TFLOP/s column, not a measurement."""
    return 2 * info["encoder_layer_params"] + 4 * info["layers"] * seq_len * info["hidden"]
