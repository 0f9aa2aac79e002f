"""CDR for the GPU benchmark: the shipped PubTator files (the first few documents of each split for --smoke),
converted with ``common.convert_corpus``, and the test texts that throughput is measured on."""
import gzip
from pathlib import Path
from typing import List, Tuple

import spacy
from spacy.tokens import Doc, DocBin

from common import SPLITS, convert_corpus


def limited_cdr(cdr: Path, out: Path, docs: int) -> Path:
    """``cdr`` itself, or (``docs`` > 0) a copy in ``out`` holding the first ``docs`` documents of each split."""
    if docs <= 0:
        return cdr
    out.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        text = gzip.open(cdr / f"{split}.pubtator.gz", "rt", encoding="utf8").read()
        blocks = [block for block in text.split("\n\n") if block.strip()][:docs]
        with gzip.open(out / f"{split}.pubtator.gz", "wt", encoding="utf8") as handle:
            handle.write("\n\n".join(blocks) + "\n\n")
    return out


def cdr_corpus(cdr: Path, work: Path, docs: int, log: Path) -> Tuple[Path, Path]:
    """(PubTator folder, converted ``.spacy`` folder) for ``docs`` documents per split (0: all)."""
    source = limited_cdr(cdr, work / "cdr_small", docs)
    return source, convert_corpus(source, work / "corpus", log, in_process=True)


def gold_docs(corpus: Path, split: str = "test") -> List[Doc]:
    """The converted documents of ``split``."""
    nlp = spacy.blank("en")
    return list(DocBin().from_disk(corpus / f"{split}.spacy").get_docs(nlp.vocab))
