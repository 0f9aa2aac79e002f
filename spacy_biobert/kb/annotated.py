"""KB builder from annotated corpora: every gold mention's text becomes a name of its concept id(s), counted.

Sources: ``.spacy`` DocBins written by ``spacy biobert convert`` (the mention span group
``doc.spans["biobert_mentions"]`` with its original character offsets, else ``doc.ents``) and PubTator files
(``.pubtator``, ``.txt``, possibly ``.gz``), read directly without tokenizing. A composite id
(``D008750|D007022``) names one composite concept, so a mention linked to it yields every id it names; mentions
without an id (``-1``) are skipped. The
mention's label becomes a label of the concept.
"""
from pathlib import Path
from typing import Iterable, Iterator, Optional, Tuple, Union

from spacy.tokens import DocBin
from spacy.vocab import Vocab

from ..concepts import split_ids
from ..corpus import MENTIONS_KEY, read_pubtator
from .base import KnowledgeBase
from .sources import require_concepts

#: (mention text, label, kb_id as annotated)
Annotation = Tuple[str, str, str]


def pubtator_annotations(path: Union[str, Path]) -> Iterator[Annotation]:
    """The mentions of a PubTator file (raises ``CorpusFormatError`` on malformed input)."""
    for source in read_pubtator(Path(path)):
        for mention in source.mentions:
            yield mention.text, mention.label, mention.kb_id


def docbin_annotations(path: Union[str, Path]) -> Iterator[Annotation]:
    """The gold mentions of a ``.spacy`` DocBin: its mention span group (original offsets), else ``doc.ents``."""
    for doc in DocBin().from_disk(path).get_docs(Vocab()):
        group = doc.spans.get(MENTIONS_KEY)
        if group is None:
            yield from ((ent.text, ent.label_, ent.kb_id_) for ent in doc.ents)
            continue
        offsets = list(group.attrs.get("char_offsets") or [])
        for i, span in enumerate(group):
            text = doc.text[offsets[i][0]:offsets[i][1]] if i < len(offsets) else span.text
            yield text, span.label_, span.kb_id_


def corpus_annotations(path: Union[str, Path]) -> Iterator[Annotation]:
    """The mentions of a corpus file, by suffix: ``.spacy`` is a DocBin, anything else PubTator."""
    return docbin_annotations(path) if str(path).endswith(".spacy") else pubtator_annotations(path)


def add_annotations(kb: KnowledgeBase, annotations: Iterable[Annotation]) -> KnowledgeBase:
    """Count each mention text as a name of its concept (a composite id is one concept); returns ``kb``."""
    for text, label, kb_id in annotations:
        ids = split_ids(kb_id)
        if ids:
            kb.add("|".join(dict.fromkeys(ids)), [text], label=label or None)
    return kb


def kb_from_corpus(path: Union[str, Path], kb: Optional[KnowledgeBase] = None) -> KnowledgeBase:
    """Add the gold mentions of the corpus file ``path`` to ``kb`` (default: a new KB) and return it.

    Raises:
        KBFormatError: naming the file, if no mention of it has a concept id.
    """
    linked = [annotation for annotation in corpus_annotations(path) if split_ids(annotation[2])]
    require_concepts(str(path), len(linked), "no mention with a concept id")
    kb = add_annotations(KnowledgeBase() if kb is None else kb, linked)
    kb.sources.append(f"corpus:{path}")
    return kb
