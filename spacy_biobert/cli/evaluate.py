"""``spacy biobert evaluate``: evaluation beyond ``spacy evaluate`` -- gold-entity mode for relation heads and
strict character-offset NER.

* default (end to end): each test document goes through the whole pipeline; relation scores then pay for
  missed or wrong entities (a predicted mention takes the concept ids of the gold mention with exactly the same
  character span, and otherwise is a concept of its own -- see ``spacy_biobert.concepts``).
* ``gold_entities=True``: the predicted docs start with the gold entities (``GoldEntsCorpus``), so a
  pipeline without NER scores its relation head alone.
* ``pubtator``: NER is also scored strictly at character offsets against every mention of the original
  PubTator file (overlapping and misaligned mentions included), so conversion cannot flatter the score.

The command prints P/R/F in percent (two decimals, as the rest of the project), one table per ``*_per_type``
score and one for the strict character offsets; ``--output`` writes every score as spaCy gives it (fractions).
Token and sentence scores (spaCy's, about a tokenizer and a sentencizer this project does not train) are not
printed.
"""
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

import typer
from spacy.cli._util import setup_gpu
from spacy.language import Language
from spacy.scorer import Scorer
from spacy.training import Example
from wasabi import msg

from ..corpus import DOC_ID_ATTR, CorpusFormatError, read_pubtator
from ..corpus.readers import TotalLimitCorpus, create_gold_ents_corpus
from ..output.paths import atomic_output
from ..scoring.ner import CharMention, predicted_char_mentions, score_char_offsets
from ._checks import check_docbins, load_or_exit
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


#: Score prefixes not printed: spaCy's token and sentence scores say nothing about these pipelines.
UNPRINTED = ("token_", "sents_")
Table = Tuple[str, Tuple[str, ...], List[Tuple[Any, ...]]]


def percent(value: Any) -> str:
    """A fraction as a percent with two decimals; ``-`` when there is no score."""
    return "-" if value is None else f"{100 * float(value):.2f}"


def _prf_rows(per_type: Dict[str, Dict[str, Any]]) -> List[Tuple[Any, ...]]:
    return [(label, *(percent(prf.get(k)) for k in ("p", "r", "f"))) for label, prf in sorted(per_type.items())]


def score_tables(scores: Dict[str, Any]) -> List[Table]:
    """What the command prints: ``(title, header, rows)`` of the overall scores, of each per-type score and of
    the strict character-offset NER scores (P/R/F in percent)."""
    overall = []
    for key, value in scores.items():
        if isinstance(value, dict) or key == "mode" or key.startswith(UNPRINTED):
            continue
        overall.append((key, f"{value:.0f} words/s" if key == "speed" else percent(value)))
    tables: List[Table] = [(f"Scores ({scores.get('mode', 'end_to_end')}, percent)", ("metric", "value"), overall)]
    for key, value in scores.items():
        if key.endswith("_per_type") and isinstance(value, dict) and not key.startswith(UNPRINTED):
            tables.append((f"{key} (percent)", ("type", "P", "R", "F"), _prf_rows(value)))
    strict = scores.get("ner_strict_chars")
    if strict:
        rows = [("all", *(percent(strict[k]) for k in ("p", "r", "f")), strict["tp"], strict["fp"], strict["fn"])]
        rows += [(*row, "", "", "") for row in _prf_rows(strict.get("per_type") or {})]
        tables.append(("NER at exact character offsets (percent)", ("type", "P", "R", "F", "TP", "FP", "FN"), rows))
    return tables


def evaluate_command(
    model: str = typer.Argument(..., help="Pipeline package name or folder."),
    data_path: Path = typer.Argument(..., exists=True, help="A .spacy file from `convert`."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write all scores as JSON."),
    gold_entities: bool = typer.Option(False, "--gold-entities", help="Start from gold entities."),
    pubtator: Optional[Path] = typer.Option(None, "--pubtator", exists=True, help="Original file, strict NER."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU."),
) -> None:
    """Evaluate a pipeline: NER, linking and relation scores (percent), end to end or from gold entities, per type,
    and with --pubtator NER at exact character offsets."""
    refuse_overwriting_or_exit([output], [model, pubtator])
    refuse_overwriting_or_exit([output], [data_path], "**/*.spacy")
    setup_gpu(gpu_id)
    nlp = load_or_exit(model)
    check_docbins(data_path)
    try:
        scores = evaluate(nlp, data_path, gold_entities=gold_entities, pubtator=pubtator)
    except CorpusFormatError as err:
        msg.fail(str(err), exits=1)
    for title, header, rows in score_tables(scores):
        msg.divider(title)
        msg.table(rows, header=header, divider=True)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(output) as partial:
            partial.write_text(json.dumps(scores, indent=2, default=float), encoding="utf8")
        msg.good(f"Saved scores to {output}")
