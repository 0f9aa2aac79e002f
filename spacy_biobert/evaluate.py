"""Evaluation beyond ``spacy evaluate``: gold-entity mode for relation heads and strict character-offset NER.

* default (end to end): each test document goes through the whole pipeline; relation scores then pay for
  missed or wrong entities (a predicted mention takes the concept ids of the gold mention with exactly the same
  character span, and otherwise is a concept of its own -- see ``spacy_biobert.scoring.rel``).
* ``gold_entities=True``: the predicted docs start with the gold entities (``GoldEntsCorpus``), so a
  pipeline without NER scores its relation head alone.
* ``pubtator``: NER is also scored strictly at character offsets against every mention of the original
  PubTator file (overlapping and misaligned mentions included), so conversion cannot flatter the score.
"""
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from spacy.language import Language
from spacy.scorer import Scorer
from spacy.training import Corpus, Example

from .corpus.readers import create_gold_ents_corpus
from .extensions import DOC_ID_ATTR
from .scoring.ner import gold_char_mentions, predicted_char_mentions, score_char_offsets


def load_examples(nlp: Language, data_path: Path, gold_entities: bool = False) -> List[Example]:
    """Read a ``.spacy`` file as examples whose predicted docs carry the source doc id (and gold ents if asked)."""
    reader = create_gold_ents_corpus(data_path) if gold_entities else Corpus(data_path)
    examples = list(reader(nlp))
    for eg in examples:
        eg.predicted._.set(DOC_ID_ATTR, eg.reference._.get(DOC_ID_ATTR))
    return examples


def evaluate(
    nlp: Language,
    data_path: Path,
    gold_entities: bool = False,
    pubtator: Optional[Path] = None,
    batch_size: Optional[int] = None,
) -> Dict[str, Any]:
    """Score ``nlp`` on ``data_path``.

    Args:
        nlp: the pipeline.
        data_path: a ``.spacy`` file from ``python -m spacy_biobert convert``.
        gold_entities: start from gold entities (relation head alone).
        pubtator: the original PubTator file, for strict character-offset NER scores.
        batch_size: ``nlp.pipe`` batch size (default: the pipeline's).
    Returns:
        The scores ``nlp.evaluate`` gives, plus ``ner_strict_chars`` when ``pubtator`` is given.
    """
    examples = load_examples(nlp, data_path, gold_entities)
    start = time.perf_counter()
    docs = nlp.pipe((eg.predicted for eg in examples), batch_size=batch_size or nlp.batch_size)
    for eg, doc in zip(examples, docs):
        eg.predicted = doc
    seconds = time.perf_counter() - start
    # spaCy's own scorers, as `spacy evaluate` would run them (it cannot start from gold entities)
    scores: Dict[str, Any] = dict(Scorer(nlp).score(examples))
    scores["speed"] = sum(len(eg.predicted) for eg in examples) / max(seconds, 1e-9)
    if pubtator is not None:
        predicted = predicted_char_mentions(eg.predicted for eg in examples)
        scores["ner_strict_chars"] = score_char_offsets(predicted, gold_char_mentions(pubtator))
    scores["mode"] = "gold_entities" if gold_entities else "end_to_end"
    return scores
