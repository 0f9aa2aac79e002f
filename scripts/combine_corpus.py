"""Gather .spacy files into one folder (copies, not links), which spaCy's corpus readers read as one corpus.

Other .spacy files already in the folder are removed, so a stale split is never read along.

Usage: python scripts/combine_corpus.py corpus/train_dev corpus/train.spacy corpus/dev.spacy
"""
import shutil
import sys
from pathlib import Path
from typing import Sequence


def combine(out_dir: Path, sources: Sequence[Path]) -> None:
    """Copy ``sources`` (``.spacy`` files with distinct names) into ``out_dir``; exit non-zero naming a bad one."""
    for source in sources:
        if source.suffix != ".spacy" or not source.is_file():
            sys.exit(f"{source}: not a .spacy file")
    names = [source.name for source in sources]
    if len(set(names)) != len(names):
        sys.exit(f"the sources share a file name ({', '.join(names)}): one copy would overwrite another")
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.spacy"):
        if stale.name not in names:
            stale.unlink()
    for source in sources:
        shutil.copyfile(source, out_dir / source.name)
        print(f"{source} -> {out_dir / source.name}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    combine(Path(sys.argv[1]), [Path(arg) for arg in sys.argv[2:]])
