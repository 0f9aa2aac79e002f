"""``spacy biobert pretrain-mlm TEXT_PATH... OUTPUT_DIR --base NAME``: continued masked-LM pretraining.

Domain- (or task-) adaptive pretraining: any BERT-family checkpoint keeps training as a masked LM on in-domain
text, and the saved checkpoint becomes the encoder of a config (``--components.transformer.model.name
OUTPUT_DIR``). The work is done by :func:`spacy_biobert.pretraining.pretrain_mlm`.
"""
import logging
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from ..models.encoder import EMBEDDED_ENCODER, EncoderNotFoundError
from ..output.paths import atomic_folder
from ..pretraining import MLMConfig, PretrainingInputError, pretrain_mlm
from ..pretraining.mlm import LOG_FILE
from ..corpus.documents import FORMATS
from ._paths import refuse_overwriting_or_exit, refuse_replacing_or_exit

#: The files of every encoder ``pretrain-mlm`` saves: an output folder holding them may be replaced.
ENCODER_FILES = ("config.json", LOG_FILE)


def pretrain_mlm_command(
    text_paths: List[Path] = typer.Argument(
        ..., help="In-domain text: folders of .txt files, .txt, .jsonl, PubTator or BioC .xml files (.gz too).",
        metavar="TEXT_PATH...",
    ),
    output_dir: Path = typer.Argument(..., help="Folder for the checkpoint and pretrain_log.json.",
                                      metavar="OUTPUT_DIR"),
    base: str = typer.Option(..., "--base", "-b", help=f"Encoder to continue: pkg:PACKAGE (e.g. {EMBEDDED_ENCODER}), "
                             "a checkpoint folder or a hub id."),
    steps: int = typer.Option(500, "--steps", help="Optimizer steps."),
    batch_size: int = typer.Option(16, "--batch-size", help="Blocks per step."),
    max_length: int = typer.Option(128, "--max-length", help="Block length in wordpieces (special tokens included)."),
    learn_rate: float = typer.Option(1e-4, "--learn-rate", help="Peak AdamW learning rate (linear warm-up/decay)."),
    mlm_probability: float = typer.Option(0.15, "--mlm-probability", help="Share of wordpieces masked."),
    seed: int = typer.Option(0, "--seed", help="Random seed (head initialisation, masking, block order)."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id, -1 for CPU."),
    file_format: Optional[str] = typer.Option(
        None, "--format", "-f", help=f"Input format of every TEXT_PATH ({', '.join(FORMATS)}); default: by suffix."
    ),
) -> None:
    """Continue masked-LM training of an encoder on in-domain text and save it (model + tokenizer +
    pretrain_log.json) to OUTPUT_DIR, for use as [components.transformer.model] name = OUTPUT_DIR."""
    refuse_overwriting_or_exit([output_dir], text_paths, "*.txt")
    refuse_overwriting_or_exit([output_dir], [base])
    refuse_replacing_or_exit(output_dir, ENCODER_FILES)
    config = MLMConfig(steps=steps, batch_size=batch_size, max_length=max_length, learn_rate=learn_rate,
                       mlm_probability=mlm_probability, seed=seed, gpu_id=gpu_id)
    logging.getLogger("spacy_biobert.pretraining").addHandler(_WarningToMsg())
    every = max(1, steps // 20)

    def progress(step: int, loss: float) -> None:
        if step % every == 0 or step == steps:
            msg.text(f"step {step}/{steps}  loss {loss:.4f}")

    msg.info(f"Masked-LM pretraining of {base} on {', '.join(map(str, text_paths))}")
    try:
        with atomic_folder(output_dir, ENCODER_FILES) as partial:
            result = pretrain_mlm(text_paths, base, output_dir, config, progress=progress, fmt=file_format,
                                  write_to=partial)
    except (PretrainingInputError, EncoderNotFoundError, ValueError, FloatingPointError) as err:
        msg.fail(str(err), exits=1)
    msg.good(f"Saved the encoder to {output_dir} ({result.seconds:.0f} s); log: {output_dir / LOG_FILE}")
    msg.table([
        ("documents / blocks / wordpieces", f"{result.documents} / {result.blocks} / {result.wordpieces}"),
        ("epochs over the blocks", result.epochs),
        ("MLM head", "newly initialised" if result.head_initialised else "from the checkpoint"),
        ("loss: first / last logged", f"{result.first_loss:.4f} / {result.last_loss:.4f}"),
    ], divider=False)
    msg.text(f"Train from it: python -m spacy train configs/ner.cfg ... --components.transformer.model.name {output_dir}")


class _WarningToMsg(logging.Handler):
    """Show the library's warnings (e.g. a newly initialised MLM head) through wasabi."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        msg.warn(record.getMessage())
