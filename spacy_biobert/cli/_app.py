"""The ``biobert`` command group: ``python -m spacy biobert …`` (spaCy's CLI) or ``python -m spacy_biobert …``."""
import typer

NAME = "biobert"
HELP = "spacy-biobert: convert biomedical corpora, annotate texts and evaluate BioBERT pipelines."

app = typer.Typer(name=NAME, help=HELP, add_completion=False, no_args_is_help=True)
