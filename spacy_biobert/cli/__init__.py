"""Command line (application layer; the library never imports it).

The commands form one Typer group, added to spaCy's CLI as ``spacy biobert`` through the ``spacy_cli``
entry point (spaCy loads it when its CLI starts), and runnable alone as ``python -m spacy_biobert`` or the
``spacy-biobert`` console script.
"""
from spacy.cli import app as spacy_app

from ._app import HELP, NAME, app
from .annotate import annotate_command
from .calibrate import calibrate_command
from .convert import convert_command
from .evaluate import evaluate_command
from .kb import kb_app
from .optimize import optimize_command
from .pretrain import pretrain_mlm_command
from .serve import serve_command
from .train_head import train_head_command

app.command("convert")(convert_command)
app.command("annotate")(annotate_command)
app.command("evaluate")(evaluate_command)
app.command("pretrain-mlm")(pretrain_mlm_command)
app.add_typer(kb_app, name="kb")
app.command("serve")(serve_command)
app.command("optimize")(optimize_command)
app.command("calibrate")(calibrate_command)
app.command("train-head")(train_head_command)
spacy_app.add_typer(app, name=NAME, help=HELP, no_args_is_help=True)


def main() -> None:
    """Entry point of ``python -m spacy_biobert`` and the ``spacy-biobert`` console script."""
    app(prog_name="spacy-biobert")
