"""Training/evaluation corpus readers.

``spacy_biobert.GoldEntsCorpus.v1`` reads a ``.spacy`` file like ``spacy.Corpus.v1`` but gives every
example's *predicted* doc the gold entities (label and ``kb_id``, transferred by character offsets onto
the predicted tokenization) and the document id -- never the gold relations. A pipeline without an NER
component (transformer + ``biobert_rel``) is thus trained and evaluated on gold entities. A pipeline whose
NER component writes ``doc.ents`` replaces them with its own predictions.

``path`` is a ``.spacy`` file or a folder, walked for ``.spacy`` files (sorted by path) as spaCy's Corpus does:
``corpus/train_dev/`` holding ``train.spacy`` and ``dev.spacy`` trains on both. ``limit`` counts documents over
all the files (:class:`TotalLimitCorpus`).
"""
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Corpus, Example
from spacy.util import registry
from spacy.vocab import Vocab

from .builder import DOC_ID_ATTR


def with_gold_ents(eg: Example) -> Example:
    """Return ``eg`` with the reference's entities (and doc id) copied onto its predicted doc.

    Args:
        eg: an example; its predicted doc may be tokenized differently from the reference.
    Returns:
        The same example, modified. Entities that cover no predicted token are left out.
    """
    predicted, reference = eg.predicted, eg.reference
    ents = []
    for ent in reference.ents:
        span = predicted.char_span(
            ent.start_char, ent.end_char, label=ent.label_, kb_id=ent.kb_id_, alignment_mode="expand"
        )
        if span is not None and len(span) and all(span.start >= e.end or span.end <= e.start for e in ents):
            ents.append(span)
    predicted.ents = ents
    predicted._.set(DOC_ID_ATTR, reference._.get(DOC_ID_ATTR))
    return eg


class TotalLimitCorpus(Corpus):
    """spaCy's ``Corpus`` whose ``limit`` holds over all the files of a folder.

    spaCy's own stops reading a file once the running total reaches ``limit`` but then still takes the first
    document of every later file, so a folder of N files gives up to ``limit + N - 1`` documents.
    """

    def read_docbin(self, vocab: Vocab, locs: Iterable[Union[str, Path]]) -> Iterator[Doc]:
        """The non-empty documents of the ``.spacy`` files ``locs``, at most ``limit`` in all (0: no limit)."""
        docs = super().read_docbin(vocab, locs)
        return islice(docs, self.limit) if self.limit >= 1 else docs


@registry.readers("spacy_biobert.GoldEntsCorpus.v1")
def create_gold_ents_corpus(
    path: Optional[Union[str, Path]],
    gold_preproc: bool = False,
    max_length: int = 0,
    limit: int = 0,
    augmenter: Optional[Callable] = None,
) -> Callable[[Language], Iterator[Example]]:
    """``spacy.Corpus.v1`` whose examples' predicted docs carry the gold entities.

    Args: as ``spacy.Corpus.v1`` (``path``: a ``.spacy`` file or a folder of them; ``limit``: documents in all).
    Returns:
        A function ``nlp -> examples``.
    """
    corpus = TotalLimitCorpus(path, gold_preproc=gold_preproc, max_length=max_length, limit=limit, augmenter=augmenter)

    def read(nlp: Language) -> Iterator[Example]:
        for eg in corpus(nlp):
            yield with_gold_ents(eg)

    return read
