"""Relation baselines that need no training, for ``bench/bench_rel.py``.

**Sentence co-occurrence**: every (chemical concept, disease concept) pair mentioned together in one sentence is
a CID relation, score 1.0 -- the classic CDR baseline (**document co-occurrence**: in one document). The pairs come from the relation head's own candidate
code (:mod:`spacy_biobert.pipeline.rel_candidates`, sentence scope, one candidate per concept pair, concept ids
from :func:`spacy_biobert.concepts.concept_ids`), so the baseline and ``biobert_rel`` see exactly the same
mentions, concepts and sentences.

Importable without ``bench/common.py``.
"""
from pathlib import Path
from typing import Iterable, Optional, Tuple

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from spacy_biobert.cli.convert import conversion_nlp
from spacy_biobert.concepts import concept_ids
from spacy_biobert.pipeline.rel_candidates import build_candidates, make_candidate_generator
from spacy_biobert.relations import CID_TYPE_PAIRS, set_concept_relations

#: Components that set sentence boundaries.
SENTENCE_SETTERS = ("sentencizer", "senter", "parser")
_SCOPES = {scope: make_candidate_generator(scope=scope) for scope in ("sentence", "document")}


def cooccurrence_relations(
    doc: Doc, type_pairs: Iterable[Tuple[str, str]] = CID_TYPE_PAIRS, label: str = "CID", scope: str = "sentence"
) -> Doc:
    """Fill ``doc``'s concept-relation store (replacing it) with every concept pair of ``type_pairs`` whose
    mentions in ``doc.ents`` start in the same sentence (``scope="document"``: anywhere in ``doc``), each
    scored 1.0.

    Args:
        doc: a document with ``ents`` (ids in ``kb_id_``) and sentence boundaries (without them, the whole
            document is one sentence).
        type_pairs: allowed ``(head entity label, tail entity label)`` pairs.
        label: the relation label.
        scope: ``"sentence"`` or ``"document"``.
    Returns:
        ``doc``.
    """
    cands = build_candidates(doc, _SCOPES[scope], set(type_pairs), concept_ids, by_concept=True)
    pairs = {(h, t, label) for info in cands for h in info.head_ids for t in info.tail_ids if h != t}
    set_concept_relations(doc, dict.fromkeys(pairs, 1.0))
    return doc


def with_sentences(nlp: Language) -> Language:
    """``nlp`` with a ``sentencizer`` first, unless a component of it sets sentence boundaries already."""
    if not any(nlp.get_pipe_meta(name).factory in SENTENCE_SETTERS for name in nlp.pipe_names):
        nlp.add_pipe("sentencizer", first=True)
    return nlp


def entity_pipeline(model: Optional[Path], config: Path) -> Language:
    """What gives the co-occurrence baseline its entities and sentences.

    Args:
        model: a trained pipeline with NER (and a linker for ids), run without its relation heads; None for gold
            entities (then a blank pipeline with ``config``'s tokenizer: the gold entities come with the corpus).
        config: a training config, for its tokenizer, when ``model`` is None.
    Returns:
        The pipeline, with a sentencizer first if none of its components sets sentence boundaries.
    """
    if model is None:
        return with_sentences(conversion_nlp(config))
    nlp = spacy.load(model)
    for name in list(nlp.pipe_names):
        if nlp.get_pipe_meta(name).factory == "biobert_rel":
            nlp.disable_pipe(name)
    return with_sentences(nlp)
