"""``spacy biobert kb build OUTPUT [--corpus F]... [--mesh] [--tsv F]... [--jsonl F]... [--mesh-xml F]...``.

Builds one knowledge base for ``biobert_linker`` from any mix of sources (merged: see
:mod:`spacy_biobert.kb.base`) and writes it to the folder ``OUTPUT``.
"""
import time
from pathlib import Path
from typing import List

import typer
from wasabi import msg

from ..corpus import CorpusFormatError
from ..kb import (KBFormatError, KnowledgeBase, kb_from_corpus, kb_from_jsonl, kb_from_mesh_lite, kb_from_mesh_xml,
                  kb_from_tsv)
from ._paths import refuse_overwriting_or_exit

kb_app = typer.Typer(help="Knowledge bases for the biobert_linker component.", no_args_is_help=True)


def folder_size(folder: Path) -> int:
    """Total size in bytes of the files in ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def build_kb(corpus: List[Path], mesh: bool, tsv: List[Path], jsonl: List[Path], mesh_xml: List[Path]) -> KnowledgeBase:
    """Merge the sources into one KB (in the order corpus, MeSH-lite, TSV, JSONL, MeSH XML)."""
    kb = KnowledgeBase()
    for path in corpus:
        kb_from_corpus(path, kb)
    if mesh:
        kb_from_mesh_lite(kb)
    for path in tsv:
        kb_from_tsv(path, kb)
    for path in jsonl:
        kb_from_jsonl(path, kb)
    for path in mesh_xml:
        kb_from_mesh_xml(path, kb)
    return kb


@kb_app.command("build")
def kb_build_command(
    output: Path = typer.Argument(..., help="Folder to write the knowledge base to (created if missing)."),
    corpus: List[Path] = typer.Option([], "--corpus", exists=True, help="Annotated corpus: .spacy or PubTator."),
    mesh: bool = typer.Option(False, "--mesh", help="Add MeSH-lite's descriptors (needs spacy-biobert[mesh])."),
    tsv: List[Path] = typer.Option([], "--tsv", exists=True, help="TSV: id, name, aliases (|), label."),
    jsonl: List[Path] = typer.Option([], "--jsonl", exists=True, help='JSONL: {"id", "name", "aliases", "label"}.'),
    mesh_xml: List[Path] = typer.Option([], "--mesh-xml", exists=True, help="NLM MeSH desc/supp XML (.gz ok)."),
) -> None:
    """Build a knowledge base for biobert_linker from corpora, MeSH and vocabulary files (repeatable options)."""
    if not (corpus or mesh or tsv or jsonl or mesh_xml):
        msg.fail("No source given: use --corpus, --mesh, --tsv, --jsonl or --mesh-xml.", exits=1)
    refuse_overwriting_or_exit([output], [*corpus, *tsv, *jsonl, *mesh_xml])
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
