"""The shipped pipeline's NER entities on CDR dev, computed once and cached as a DocBin (for the dense-linking bench).

``entities(pipeline, corpus, cache)`` runs the pipeline without its linker and relation heads over the dev texts
(the first time; afterwards the cache is read) and returns the examples: predicted docs with the NER's entities
(no ids), gold references.
"""
import time
from pathlib import Path
from typing import List, Tuple

import spacy
from spacy.tokens import DocBin
from spacy.training import Corpus, Example

HEADS = ("biobert_linker", "biobert_rel", "biobert_rel_cues")


def entities(pipeline: Path, corpus: Path, cache: Path, batch_size: int = 32) -> Tuple[List[Example], float]:
    """Dev examples with the NER's entities (and the seconds the NER took, 0 when cached)."""
    nlp = spacy.blank("en") if cache.exists() else spacy.load(pipeline)
    gold = list(Corpus(corpus / "dev.spacy")(nlp))
    if cache.exists():
        docs = list(DocBin().from_disk(cache).get_docs(nlp.vocab))
        return [Example(doc, eg.reference) for doc, eg in zip(docs, gold)], 0.0
    start = time.perf_counter()
    with nlp.select_pipes(disable=[h for h in HEADS if h in nlp.pipe_names]):
        docs = list(nlp.pipe((eg.predicted for eg in gold), batch_size=batch_size))
    seconds = time.perf_counter() - start
    cache.parent.mkdir(parents=True, exist_ok=True)
    DocBin(docs=docs, store_user_data=True).to_disk(cache)
    return [Example(doc, eg.reference) for doc, eg in zip(docs, gold)], seconds


if __name__ == "__main__":
    import sys

    import torch

    torch.set_num_threads(2)
    egs, secs = entities(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
    print(len(egs), "docs", sum(len(eg.predicted.ents) for eg in egs), "entities", f"{secs:.1f} s")
