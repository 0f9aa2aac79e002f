"""``spacy biobert evaluate``: evaluation beyond ``spacy evaluate`` -- gold-entity mode for relation heads and
strict character-offset NER.

* default (end to end): each test document goes through the whole pipeline; relation scores then pay for
  missed or wrong entities (a predicted mention takes the concept ids of the gold mention with exactly the same
  character span, and otherwise is a concept of its own -- see ``spacy_biobert.concepts``).
* ``gold_entities=True``: the predicted docs start with the gold entities (``GoldEntsCorpus``), so a
  pipeline without NER scores its relation head alone.
* ``pubtator``: NER is also scored strictly at character offsets against every mention of the original
  PubTator file (overlapping and misaligned mentions included), so conversion cannot flatter the score.
"""
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import spacy
import typer
from spacy.cli._util import setup_gpu
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.training import Example
from wasabi import msg

from ..corpus import DOC_ID_ATTR, read_pubtator
from ..corpus.readers import TotalLimitCorpus, create_gold_ents_corpus
from ..scoring.ner import CharMention, predicted_char_mentions, score_char_offsets
from ..output.paths import atomic_output
from ._paths import refuse_overwriting_or_exit


def gold_char_mentions(path: Path) -> Set[CharMention]:
    """All mentions of a PubTator file as ``(doc id, start, end, label)``, overlapping ones included."""
    return {(src.doc_id, m.start, m.end, m.label) for src in read_pubtator(Path(path)) for m in src.mentions}


def load_examples(nlp: Language, data_path: Path, gold_entities: bool = False, limit: int = 0) -> List[Example]:
    """Read a ``.spacy`` file (or a folder of them) as examples whose predicted docs carry the source doc id (and
    gold ents if asked); ``limit``: the first N documents only (0: all)."""
    if gold_entities:
        reader = create_gold_ents_corpus(data_path, limit=limit)
    else:
        reader = TotalLimitCorpus(data_path, limit=limit)
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


def evaluate_command(
    model: str = typer.Argument(..., help="Pipeline package name or folder."),
    data_path: Path = typer.Argument(..., exists=True, help="A .spacy file from `convert`."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write all scores as JSON."),
    gold_entities: bool = typer.Option(False, "--gold-entities", help="Start from gold entities."),
    pubtator: Optional[Path] = typer.Option(None, "--pubtator", exists=True, help="Original file, strict NER."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU."),
) -> None:
    """Evaluate a pipeline: NER and relation scores, end to end or from gold entities."""
    refuse_overwriting_or_exit([output], [model, pubtator])
    refuse_overwriting_or_exit([output], [data_path], "**/*.spacy")
    setup_gpu(gpu_id)
    scores = evaluate(spacy.load(model), data_path, gold_entities=gold_entities, pubtator=pubtator)
    rows = [(key, f"{value:.4f}" if isinstance(value, float) else value) for key, value in scores.items()
            if not isinstance(value, dict)]
    msg.table(rows, header=("metric", "value"), divider=True)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(output) as partial:
            partial.write_text(json.dumps(scores, indent=2, default=float), encoding="utf8")
        msg.good(f"Saved scores to {output}")
