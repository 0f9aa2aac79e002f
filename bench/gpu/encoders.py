"""The encoders of the throughput job: the embedded MiniLM (or its packed copy from the bundle) and randomly
initialised BERTs of a given shape, written with ``save_pretrained`` (throughput does not depend on weights)."""
import json
import shutil
from pathlib import Path
from typing import Dict, List, Optional

from spacy_biobert.models.encoder import EMBEDDED_ENCODER, resolve_encoder_name

#: BERT shapes: BioBERT v1.2 (dmis-lab/biobert-base-cased-v1.2) is BERT-base with a cased 28,996-entry vocabulary;
#: "tiny" is the tests' fixture shape (tests/util.py), for --smoke (vocabulary: the MiniLM's, whole).
SHAPES: Dict[str, Dict[str, int]] = {
    "bert-base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
                  "vocab_size": 28996},
    "tiny": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 37},
}
TOKENIZER_FILES = ("tokenizer_config.json", "special_tokens_map.json")


def minilm_dir(path: Optional[Path]) -> Path:
    """The MiniLM checkpoint folder: ``path`` (the packed copy on the GPU machine) or the installed package's."""
    return Path(path) if path else Path(resolve_encoder_name(EMBEDDED_ENCODER))


def sized_vocab(words: List[str], size: int) -> List[str]:
    """``words`` cut to ``size`` entries by dropping the last whole words (not ``##`` pieces nor ``[special]``
    tokens): every text still tokenizes, a dropped word into smaller pieces."""
    drop = set()
    for i in range(len(words) - 1, -1, -1):
        if len(words) - len(drop) <= size:
            break
        if not words[i].startswith(("##", "[")):
            drop.add(i)
    return [w for i, w in enumerate(words) if i not in drop]


def random_bert(folder: Path, shape: str, vocab_dir: Path, seed: int = 0) -> Path:
    """Write a randomly initialised ``BertModel`` of ``SHAPES[shape]`` with ``vocab_dir``'s WordPiece vocabulary,
    cut to the shape's ``vocab_size`` (BioBERT's own cased vocabulary is not available offline)."""
    import torch
    from transformers import BertConfig, BertModel

    if (folder / "config.json").exists():
        return folder
    words = (vocab_dir / "vocab.txt").read_text(encoding="utf8").splitlines()
    shape_config = {"vocab_size": len(words), **SHAPES[shape]}
    words = sized_vocab(words, shape_config["vocab_size"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf8")
    for name in TOKENIZER_FILES:  # no tokenizer.json: the fast tokenizer is built from vocab.txt
        if (vocab_dir / name).exists():
            shutil.copy(vocab_dir / name, folder / name)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        BertModel(BertConfig(max_position_embeddings=512, **shape_config)).save_pretrained(str(folder))
    return folder


def describe(config: Dict, folder: Optional[Path] = None) -> Dict:
    """Shape and vocabulary of an encoder (its Hugging Face config as a dict), and how it was packed, if it was."""
    packed = folder / "pack_info.json" if folder else None
    return {"hidden": config["hidden_size"], "layers": config["num_hidden_layers"],
            "heads": config["num_attention_heads"], "intermediate": config["intermediate_size"],
            "vocab_size": config["vocab_size"],
            "packed": json.loads(packed.read_text(encoding="utf8")) if packed and packed.exists() else None}
