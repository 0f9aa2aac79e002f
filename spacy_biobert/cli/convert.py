"""``spacy biobert convert INPUT OUTPUT_DIR --format pubtator|bioc|brat``: a corpus -> a ``.spacy`` DocBin."""
import json
from pathlib import Path
from typing import Optional

import spacy
import typer
from spacy.language import Language
from spacy.tokens import DocBin
from wasabi import msg

from ..corpus import READERS, ConversionStats, CorpusFormatError, build_docs
from ..corpus.files import without_gz
from ..output.paths import atomic_output
from ._checks import fail
from ._paths import refuse_overwriting_or_exit

DEFAULT_TOKENIZER = {"@tokenizers": "spacy_biobert.Tokenizer.v1"}


def conversion_nlp(config_path: Optional[Path] = None) -> Language:
    """A blank pipeline with the tokenizer of ``config_path``'s ``[nlp]`` block (default: ours)."""
    if config_path is None:
        return spacy.blank("en", config={"nlp": {"tokenizer": DEFAULT_TOKENIZER}})
    config = spacy.util.load_config(config_path, interpolate=False)
    nlp_block = config.get("nlp", {})
    return spacy.blank(nlp_block.get("lang", "en"), config={"nlp": {"tokenizer": nlp_block["tokenizer"]}})


def corpus_name(path: Path) -> str:
    """The name of a corpus file without its format and compression suffixes (``train.pubtator.gz`` -> ``train``)."""
    return Path(without_gz(path.name)).stem


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


def convert_command(
    input_path: Path = typer.Argument(..., exists=True, help="Input file (folder for BRAT)."),
    output_dir: Path = typer.Argument(..., help="Folder for the .spacy file (created if missing)."),
    file_format: str = typer.Option("pubtator", "--format", "-f", help="pubtator, bioc or brat."),
    config: Optional[Path] = typer.Option(
        None, "--config", "-c", exists=True, help="Take the tokenizer from this training config."
    ),
    summary_json: Optional[Path] = typer.Option(None, "--summary-json", help="Also write the summary as JSON."),
    name: Optional[str] = typer.Option(
        None, "--name", "-n", help="Output file name without .spacy (default: the input's name, e.g. train)."
    ),
) -> None:
    """Convert a biomedical corpus (PubTator, possibly .gz; BioC XML; BRAT folder) to a spaCy DocBin with
    entities (label, kb_id) and relations."""
    if file_format not in READERS:
        msg.fail(f"Unknown format {file_format!r}; choose one of {', '.join(READERS)}", exits=1)
    if input_path.is_dir() and file_format != "brat":
        fail(input_path, f"a folder; --format {file_format} reads a file (brat reads a folder)")
    output = output_dir / f"{name or corpus_name(input_path)}.spacy"
    refuse_overwriting_or_exit([output, summary_json], [input_path, config])
    nlp = conversion_nlp(config)
    stats = ConversionStats()
    try:
        docs = build_docs(nlp, READERS[file_format](input_path), stats)
    except CorpusFormatError as err:
        msg.fail(str(err), exits=1)
    if not docs:
        fail(input_path, "no document in it")
    output_dir.mkdir(parents=True, exist_ok=True)
    with atomic_output(output) as partial:
        DocBin(docs=docs, store_user_data=True).to_disk(partial)
    print_summary(stats, output)
    if summary_json is not None:
        with atomic_output(summary_json) as partial:
            partial.write_text(json.dumps(stats.as_dict(), indent=2), encoding="utf8")
