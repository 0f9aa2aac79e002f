"""Corpus converters: PubTator, BioC XML and BRAT standoff -> spaCy ``DocBin`` with entities and relations."""
from pathlib import Path
from typing import Callable, Dict, Iterator

from .builder import (
    DOC_ID_ATTR,
    MENTIONS_KEY,
    ConversionStats,
    CorpusFormatError,
    Mention,
    SourceDoc,
    build_doc,
    build_docs,
    install_corpus_extensions,
)
from .pubtator import read_pubtator

Reader = Callable[[Path], Iterator[SourceDoc]]


def _bioc(path: Path) -> Iterator[SourceDoc]:
    from .bioc import read_bioc

    return read_bioc(path)


def _brat(path: Path) -> Iterator[SourceDoc]:
    from .brat import read_brat

    return read_brat(path)


#: format name -> reader yielding :class:`SourceDoc` from a file (or, for BRAT, a folder).
READERS: Dict[str, Reader] = {"pubtator": read_pubtator, "bioc": _bioc, "brat": _brat}

__all__ = [
    "DOC_ID_ATTR",
    "MENTIONS_KEY",
    "READERS",
    "ConversionStats",
    "CorpusFormatError",
    "Mention",
    "SourceDoc",
    "build_doc",
    "build_docs",
    "install_corpus_extensions",
    "read_pubtator",
]
