"""Replace components of a pipeline by the same components trained elsewhere: the final NER (trained on train + dev
at the dev-chosen budget) into the pipeline whose relation threshold and title bonus were chosen on dev with the
train-only NER. Everything else (linker and its KB, relation head, meta with its calibration) stays.

Each replaced component must have the same config in both pipelines (same architecture, same encoder); its weights
are read from the source with the component's own ``from_bytes``, so a listener stays connected to its transformer.

Usage: python scripts/replace_components.py training/e2e_calibrated training/ner_final/model-last training/e2e \
    --component transformer --component biobert_ner
"""
import argparse
import sys
from pathlib import Path
from typing import Sequence

import spacy


def replace_components(pipeline: Path, source: Path, output: Path, names: Sequence[str]) -> None:
    """Write ``pipeline`` to ``output`` with the components ``names`` taken from ``source``; exit naming a component
    that either pipeline lacks or whose configs differ."""
    nlp, src = spacy.load(pipeline), spacy.load(source)
    for name in names:
        for path, pipe in ((pipeline, nlp), (source, src)):
            if name not in pipe.component_names:
                sys.exit(f"{path}: no component {name!r} (it has {', '.join(pipe.component_names)})")
        if nlp.config["components"][name] != src.config["components"][name]:
            sys.exit(f"{name}: its config in {source} differs from the one in {pipeline}; only the same "
                     "architecture can take its weights")
        nlp.get_pipe(name).from_bytes(src.get_pipe(name).to_bytes())
    nlp.meta.setdefault("replaced_components", {}).update({name: str(source) for name in names})
    nlp.to_disk(output)
    print(f"{output}: {pipeline} with {', '.join(names)} from {source}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pipeline", type=Path, help="the pipeline to copy")
    parser.add_argument("source", type=Path, help="the pipeline the components come from")
    parser.add_argument("output", type=Path)
    parser.add_argument("--component", action="append", required=True, help="a component name (repeatable)")
    args = parser.parse_args()
    replace_components(args.pipeline, args.source, args.output, args.component)


if __name__ == "__main__":
    main()
