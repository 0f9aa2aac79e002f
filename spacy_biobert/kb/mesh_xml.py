"""KB builder from NLM's MeSH XML: descriptors (``desc20XX.xml``) and supplementary concepts (``supp20XX.xml``).

Read with :func:`xml.etree.ElementTree.iterparse`, one record at a time (the full descriptor file is ~300 MB).
A record gives its id (``DescriptorUI`` / ``SupplementalRecordUI``), its preferred name and every entry term
(``ConceptList/Concept/TermList/Term/String``). Labels come from the tree numbers of a descriptor (by
prefix, :data:`TREE_LABELS`: ``C…`` and ``F03…`` diseases, ``D…`` chemicals) and from a supplementary record's
``SCRClass`` (:data:`SCR_LABELS`); a record matching none is added without a label. ``.gz`` files are read
directly. Malformed XML raises :class:`~.base.KBFormatError` with the file and line.
"""
import gzip
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Set, Union

from .base import KBFormatError, KnowledgeBase

#: Tree-number prefix -> label (longest matching prefix wins).
TREE_LABELS: Dict[str, str] = {"C": "Disease", "F03": "Disease", "D": "Chemical"}
#: Supplementary record class -> label (1: chemical, 3: rare disease).
SCR_LABELS: Dict[str, str] = {"1": "Chemical", "3": "Disease"}
RECORDS = {"DescriptorRecord": "DescriptorUI", "SupplementalRecord": "SupplementalRecordUI"}
NAMES = {"DescriptorRecord": "DescriptorName", "SupplementalRecord": "SupplementalRecordName"}


def tree_labels(tree_numbers: List[str], table: Mapping[str, str] = TREE_LABELS) -> Set[str]:
    """The labels of a descriptor's tree numbers: per tree number, the label of its longest prefix in ``table``."""
    labels = set()
    for number in tree_numbers:
        prefixes = [p for p in table if number.startswith(p)]
        if prefixes:
            labels.add(table[max(prefixes, key=len)])
    return labels


def _record_labels(elem: ET.Element, tree_table: Mapping[str, str]) -> Set[str]:
    if elem.tag == "SupplementalRecord":
        label = SCR_LABELS.get(elem.get("SCRClass", ""))
        return {label} if label else set()
    return tree_labels([t.text or "" for t in elem.iterfind("TreeNumberList/TreeNumber")], tree_table)


def _add_record(kb: KnowledgeBase, elem: ET.Element, tree_table: Mapping[str, str], source: str, n: int) -> None:
    uid = (elem.findtext(RECORDS[elem.tag]) or "").strip()
    if not uid:
        raise KBFormatError(source, f"record {n}", f"{elem.tag} without {RECORDS[elem.tag]}")
    names = [elem.findtext(f"{NAMES[elem.tag]}/String") or ""]
    names += [t.text or "" for t in elem.iterfind("ConceptList/Concept/TermList/Term/String")]
    names = [name for name in names if name.strip()]
    if not names:
        raise KBFormatError(source, f"record {n}", f"{elem.tag} {uid} has no name")
    concept = kb.add(uid, dict.fromkeys(names, 1))
    concept.labels |= _record_labels(elem, tree_table)


def kb_from_mesh_xml(
    path: Union[str, Path], kb: Optional[KnowledgeBase] = None, tree_table: Mapping[str, str] = TREE_LABELS
) -> KnowledgeBase:
    """Add the descriptors or supplementary records of a MeSH XML file to ``kb`` (default: a new KB).

    Raises:
        KBFormatError: on malformed XML (file and line) or a record without id or name (its index).
    """
    kb = KnowledgeBase() if kb is None else kb
    source = str(path)
    opener = gzip.open if str(path).endswith(".gz") else open
    n = 0
    try:
        with opener(path, "rb") as handle:
            for _, elem in ET.iterparse(handle, events=("end",)):
                if elem.tag in RECORDS:
                    n += 1
                    _add_record(kb, elem, tree_table, source, n)
                    elem.clear()
    except ET.ParseError as err:
        raise KBFormatError(source, err.position[0], f"malformed XML ({err})") from err
    if n == 0:
        raise KBFormatError(source, None, "no DescriptorRecord or SupplementalRecord found")
    kb.sources.append(f"mesh-xml:{path}")
    return kb
