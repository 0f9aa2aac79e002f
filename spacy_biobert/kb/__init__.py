"""Knowledge bases for the entity linker: concepts with names, builders, normalisation and candidate matching.

* :mod:`.base` -- :class:`KnowledgeBase` (concept id, labels, names with counts), saved to / loaded from a folder;
* builders -- :mod:`.annotated` (corpora), :mod:`.sources` (TSV, JSONL, MeSH-lite), :mod:`.mesh_xml` (NLM XML);
  :mod:`.build` -- the table of sources and one KB merged from any mix of them;
* :mod:`.normalize` -- :class:`Normalizer`; :mod:`.matcher` -- exact and TF-IDF candidates;
* :mod:`.abbreviations`, :mod:`.resolve` -- document-level linking; :mod:`.link_candidates` -- the Doc attribute.
"""
from .annotated import kb_from_corpus
from .base import Concept, KBFormatError, KnowledgeBase
from .link_candidates import CANDIDATES_ATTR, get_link_candidates, install_candidate_extension, set_link_candidates
from .matcher import ConceptMatcher
from .mesh_xml import kb_from_mesh_xml
from .normalize import BASELINE, Normalizer
from .sources import kb_from_jsonl, kb_from_mesh_lite, kb_from_tsv

__all__ = [
    "BASELINE",
    "CANDIDATES_ATTR",
    "Concept",
    "ConceptMatcher",
    "KBFormatError",
    "KnowledgeBase",
    "Normalizer",
    "get_link_candidates",
    "install_candidate_extension",
    "kb_from_corpus",
    "kb_from_jsonl",
    "kb_from_mesh_lite",
    "kb_from_mesh_xml",
    "kb_from_tsv",
    "set_link_candidates",
]
