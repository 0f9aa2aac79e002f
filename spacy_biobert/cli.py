"""Command line: ``python -m spacy_biobert convert INPUT OUTPUT_DIR --format pubtator|bioc|brat``."""
import json
from pathlib import Path
from typing import Optional

import spacy
import typer
from spacy.language import Language
from spacy.tokens import DocBin
from wasabi import msg

from .corpus import READERS, ConversionStats, CorpusFormatError, build_docs

app = typer.Typer(name="spacy_biobert", add_completion=False, no_args_is_help=True)
DEFAULT_TOKENIZER = {"@tokenizers": "spacy_biobert.Tokenizer.v1"}


@app.callback()
def _commands() -> None:
    """spacy-biobert: BioBERT NER and relation extraction for spaCy."""


def conversion_nlp(config_path: Optional[Path] = None) -> Language:
    """A blank pipeline with the tokenizer of ``config_path``'s ``[nlp]`` block (default: ours)."""
    if config_path is None:
        return spacy.blank("en", config={"nlp": {"tokenizer": DEFAULT_TOKENIZER}})
    config = spacy.util.load_config(config_path, interpolate=False)
    nlp_block = config.get("nlp", {})
    return spacy.blank(nlp_block.get("lang", "en"), config={"nlp": {"tokenizer": nlp_block["tokenizer"]}})


def print_summary(stats: ConversionStats, output: Path) -> None:
    """Print a conversion summary: documents, mentions per label, relations, misaligned/left-out mentions."""
    summary = stats.as_dict()
    msg.good(f"Wrote {summary['documents']} documents to {output}")
    rows = [(f"mentions: {label}", n) for label, n in sorted(stats.mentions.items())]
    rows += [(f"concept relations: {label}", n) for label, n in sorted(stats.concept_relations.items())]
    rows += [(f"mention relations: {label}", n) for label, n in sorted(stats.mention_relations.items())]
    rows.append(
        ("misaligned (expanded to tokens)", f"{summary['misaligned_expanded']} ({summary['misaligned_pct']}%)")
    )
    rows.append(("not in doc.ents (kept in span group)", sum(stats.not_in_ents.values())))
    rows += [(f"  - {why}", n) for why, n in sorted(stats.not_in_ents.items())]
    rows.append(("discontinuous (kept as covering span)", stats.discontinuous))
    rows += [(f"skipped source lines: {what}", n) for what, n in sorted(stats.skipped.items())]
    msg.table(rows, header=("what", "count"), divider=True)
    for example in stats.examples:
        msg.text(f"  misaligned: {example}")


@app.command("convert")
def convert(
    input_path: Path = typer.Argument(..., exists=True, help="Input file (folder for BRAT)."),
    output_dir: Path = typer.Argument(..., help="Folder for the .spacy file (created if missing)."),
    file_format: str = typer.Option("pubtator", "--format", "-f", help="pubtator, bioc or brat."),
    config: Optional[Path] = typer.Option(
        None, "--config", "-c", exists=True, help="Take the tokenizer from this training config."
    ),
    summary_json: Optional[Path] = typer.Option(None, "--summary-json", help="Also write the summary as JSON."),
) -> None:
    """Convert a biomedical corpus to a spaCy DocBin with entities (label, kb_id) and relations."""
    if file_format not in READERS:
        msg.fail(f"Unknown format {file_format!r}; choose one of {', '.join(READERS)}", exits=1)
    nlp = conversion_nlp(config)
    stats = ConversionStats()
    try:
        docs = build_docs(nlp, READERS[file_format](input_path), stats)
    except CorpusFormatError as err:
        msg.fail(str(err), exits=1)
    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / f"{input_path.stem}.spacy"
    DocBin(docs=docs, store_user_data=True).to_disk(output)
    print_summary(stats, output)
    if summary_json is not None:
        summary_json.write_text(json.dumps(stats.as_dict(), indent=2), encoding="utf8")


@app.command("annotate")
def annotate(
    model: str = typer.Argument(..., help="Pipeline package name or folder."),
    text: Optional[str] = typer.Option(None, "--text", "-t", help="Text to annotate (default: a sample abstract)."),
) -> None:
    """Annotate a text and print entities with confidences and relations with scores."""
    from .annotate import SAMPLE_ABSTRACT, report

    nlp = spacy.load(model)
    doc = nlp(text or SAMPLE_ABSTRACT)
    msg.divider(f"{model}")
    print(doc.text, end="\n\n")
    print(report(doc))


@app.command("evaluate")
def evaluate_command(
    model: str = typer.Argument(..., help="Pipeline package name or folder."),
    data_path: Path = typer.Argument(..., exists=True, help="A .spacy file from `convert`."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write all scores as JSON."),
    gold_entities: bool = typer.Option(False, "--gold-entities", help="Start from gold entities."),
    pubtator: Optional[Path] = typer.Option(None, "--pubtator", exists=True, help="Original file, strict NER."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU."),
) -> None:
    """Evaluate a pipeline: NER and relation scores, end to end or from gold entities."""
    from spacy.cli._util import setup_gpu

    from .evaluate import evaluate

    setup_gpu(gpu_id)
    scores = evaluate(spacy.load(model), data_path, gold_entities=gold_entities, pubtator=pubtator)
    rows = [(key, f"{value:.4f}" if isinstance(value, float) else value) for key, value in scores.items()
            if not isinstance(value, dict)]
    msg.table(rows, header=("metric", "value"), divider=True)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(scores, indent=2, default=float), encoding="utf8")
        msg.good(f"Saved scores to {output}")


def main() -> None:
    """Entry point of the ``spacy-biobert`` console script."""
    app()
