"""Shared fixtures: a tiny randomly initialised BERT written to disk, and pytest markers."""
import string
from pathlib import Path

import pytest

CDR_DIR = Path(__file__).resolve().parents[1] / "assets" / "cdr"
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "of", "and", "in", "induced", "patients", "rats", "with", "was", "were", "to", "a"]


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")
    parser.addoption("--rungpu", action="store_true", default=False, help="run tests marked gpu")


def pytest_collection_modifyitems(config, items):
    for marker, option in (("slow", "--runslow"), ("gpu", "--rungpu")):
        if config.getoption(option):
            continue
        skip = pytest.mark.skip(reason=f"needs {option}")
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


def write_tiny_bert(folder: Path) -> Path:
    """Write a 2-layer, 32-wide random BERT with a character-level WordPiece vocab to ``folder``."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    chars = string.ascii_letters + string.digits + string.punctuation
    vocab = list(dict.fromkeys(SPECIAL + WORDS + list(chars) + ["##" + c for c in chars]))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf8")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=False)
    tokenizer.model_max_length = 512
    tokenizer.save_pretrained(str(folder))
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> str:
    """Path of a tiny random BERT checkpoint (config.json, weights, vocab.txt)."""
    return str(write_tiny_bert(tmp_path_factory.mktemp("tiny_bert")))


@pytest.fixture(scope="session")
def cdr_dir() -> Path:
    """The CDR corpus shipped with the project: ``assets/cdr/{train,dev,test}.pubtator.gz``."""
    return CDR_DIR
