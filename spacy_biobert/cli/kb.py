"""``spacy biobert kb build OUTPUT [--corpus F]... [--mesh] [--tsv F]... [--jsonl F]... [--mesh-xml F]...``.

Builds one knowledge base for ``biobert_linker`` from any mix of sources (merged: see
:mod:`spacy_biobert.kb.base`) and writes it to the folder ``OUTPUT``.
"""
import time
from pathlib import Path
from typing import Callable, List, Optional

import typer
from wasabi import msg

from ..corpus import CorpusFormatError
from ..kb import (KBFormatError, KnowledgeBase, kb_from_corpus, kb_from_jsonl, kb_from_mesh_lite, kb_from_mesh_xml,
                  kb_from_tsv)

kb_app = typer.Typer(help="Knowledge bases for the biobert_linker component.", no_args_is_help=True)


def folder_size(folder: Path) -> int:
    """Total size in bytes of the files in ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def name_count(kb: KnowledgeBase) -> int:
    """How many names the KB has read (counts summed: a source that repeats known names adds to it)."""
    return sum(sum(concept.names.values()) for concept in kb)


def _add(kb: KnowledgeBase, build: Callable[..., KnowledgeBase], path: Optional[Path] = None) -> None:
    """Add one source to ``kb``; a source that adds no name is refused (an empty file, or the wrong kind)."""
    before = name_count(kb)
    try:
        build(kb=kb) if path is None else build(path, kb)
    except (KBFormatError, CorpusFormatError):
        raise
    except ValueError as err:  # e.g. spaCy's E1014: a --corpus file that is no DocBin nor PubTator
        raise KBFormatError(str(path), None, f"cannot read it ({str(err).splitlines()[0][:120]})") from err
    if name_count(kb) == before:
        raise KBFormatError(str(path or "MeSH-lite"), None, "no concept in it (an empty file?)")


def build_kb(corpus: List[Path], mesh: bool, tsv: List[Path], jsonl: List[Path], mesh_xml: List[Path]) -> KnowledgeBase:
    """Merge the sources into one KB (in the order corpus, MeSH-lite, TSV, JSONL, MeSH XML).

    Raises:
        KBFormatError: naming a source that cannot be read or holds no concept.
    """
    kb = KnowledgeBase()
    for path in corpus:
        _add(kb, kb_from_corpus, path)
    if mesh:
        _add(kb, kb_from_mesh_lite)
    for path in tsv:
        _add(kb, kb_from_tsv, path)
    for path in jsonl:
        _add(kb, kb_from_jsonl, path)
    for path in mesh_xml:
        _add(kb, kb_from_mesh_xml, path)
    return kb


@kb_app.command("build")
def kb_build_command(
    output: Path = typer.Argument(..., help="Folder to write the knowledge base to (created if missing)."),
    corpus: List[Path] = typer.Option([], "--corpus", exists=True, dir_okay=False, help="Annotated corpus: .spacy or PubTator."),
    mesh: bool = typer.Option(False, "--mesh", help="Add MeSH-lite's descriptors (needs spacy-biobert[mesh])."),
    tsv: List[Path] = typer.Option([], "--tsv", exists=True, dir_okay=False, help="TSV: id, name, aliases (|), label."),
    jsonl: List[Path] = typer.Option([], "--jsonl", exists=True, dir_okay=False, help='JSONL: {"id", "name", "aliases", "label"}.'),
    mesh_xml: List[Path] = typer.Option([], "--mesh-xml", exists=True, dir_okay=False, help="NLM MeSH desc/supp XML (.gz ok)."),
) -> None:
    """Build a knowledge base for biobert_linker from corpora, MeSH and vocabulary files (repeatable options)."""
    if not (corpus or mesh or tsv or jsonl or mesh_xml):
        msg.fail("No source given: use --corpus, --mesh, --tsv, --jsonl or --mesh-xml.", exits=1)
    start = time.perf_counter()
    try:
        kb = build_kb(corpus, mesh, tsv, jsonl, mesh_xml)
    except (KBFormatError, CorpusFormatError, ImportError) as err:
        msg.fail(str(err), exits=1)
    kb.to_disk(output)
    meta = kb.meta()
    msg.good(f"Wrote {meta['concepts']} concepts, {meta['names']} names to {output} "
             f"({folder_size(output) / 1e6:.1f} MB, {time.perf_counter() - start:.1f} s)")
    msg.table([(f"concepts: {label}", n) for label, n in meta["per_label"].items()]
              + [("ids with conflicting labels (kept both)", meta["conflicting_ids"])], divider=True)
