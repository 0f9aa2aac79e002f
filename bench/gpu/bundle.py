"""The bundle an offline GPU machine needs: build it here (``python bench/gpu/bundle.py``), unpack it there.

The GPU machine (Python 3.12, torch, CuPy, transformers 5.x; no spaCy, no network) gets what it lacks in one
archive, ``.whl/gpu-bundle.tar.xz`` (git-ignored), small enough to travel with the working tree in one call of the
device tool (64 MiB together; the build stops above ``--limit-mib``). Build it on x86-64 Linux with pip reaching
PyPI, in the checkout the device tool sends, under ``flock`` on ``common.CPU_LOCK`` (packing the encoder and xz
take about 5 minutes of CPU)::

    python bench/gpu/bundle.py [--python-version 3.12] [--stage-only]

Steps: 1. the wheels of :data:`WHEELS` for that Python (``pip download --no-deps --only-binary=:all:
--python-version … --platform manylinux…``) and ours (``pip wheel --no-deps .``, for its entry points); 2. all
installed with ``--no-deps`` into one ``--target`` folder (no scripts, no ``.pyc``); 3. pruned: the packages'
tests, Cython/C++ sources, the extensions' debug symbols; 4. the embedded MiniLM packed by :func:`pack` (cached in
``build/gpu-bundle/minilm_cdr_fp16``: delete it after a change to the tokenizer or to CDR); 5. ``site/`` and the
packed encoder in one tar.xz. The wheels themselves would not fit: 73 MiB without the encoder, 83 MiB the encoder's.

The encoder travels **changed**: every weight rounded to fp16 (cast back to fp32 on load; the largest error is
recorded in its ``pack_info.json``), and the word-embedding rows of wordpieces CDR can never produce set to zero
(they compress to nothing). A row is kept when its wordpiece occurs in the tokenization of any text the pipeline
can hand the encoder (every substring of a whitespace-delimited word between token boundaries, and every whole
text) of any CDR split: on CDR the zeroed rows are never looked up; on other text the packed encoder is not the
original.

On the GPU machine ``bench/bench_gpu.py`` calls :func:`activate`: it unpacks the archive once into the temporary
folder and runs the harness again with ``PYTHONPATH`` = the checkout, then the bundle's ``site/`` (its transformers
4.53.2 shadows the image's 5.x, which spacy-transformers 1.4.0 does not accept). The checkout comes first, so the
code that runs is always the checkout's: rebuild only after a change to :data:`WHEELS` or to setup.cfg's entry points.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Iterator, List, Optional, Set

ROOT = Path(__file__).resolve().parents[2]
ARCHIVE = ROOT / ".whl" / "gpu-bundle.tar.xz"
ENCODER = "minilm_cdr_fp16"
#: What the GPU machine lacks, at the versions this project's environment runs. Its image has torch, numpy, cupy,
#: safetensors, typer, click, rich, requests, httpx, jinja2, tqdm, packaging, setuptools, pyyaml, regex, filelock,
#: fsspec, lxml, scipy, scikit-learn. transformers, tokenizers and huggingface-hub travel because spacy-transformers
#: 1.4.0 requires transformers<4.53.3 (the image has 5.x); scispacy and bioc because spacy-biobert imports them
#: (their other dependencies serve modules it does not import).
WHEELS = (
    "spacy==3.8.18", "spacy-legacy==3.0.12", "spacy-loggers==1.0.5", "thinc==8.3.14", "blis==1.3.4", "cymem==2.0.16",
    "preshed==3.0.15", "murmurhash==1.0.16", "srsly==2.5.6", "wasabi==1.1.3", "weasel==1.0.1", "catalogue==2.0.10",
    "confection==1.3.4", "cloudpathlib==0.26.0", "smart-open==9.0.2", "pydantic==2.14.3", "pydantic-core==2.50.4",
    "annotated-types==0.8.0", "typing-inspection==0.4.5", "typing-extensions==4.16.0",
    "spacy-transformers==1.4.0", "spacy-alignments==0.9.3", "transformers==4.53.2", "tokenizers==0.21.4",
    "huggingface-hub==0.36.2", "scispacy==0.6.2", "bioc==2.1",
)
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64", "manylinux_2_5_x86_64")
EMBEDDINGS = "embeddings.word_embeddings.weight"
ENCODER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json")


def unpacked() -> Path:
    """Where :func:`activate` unpacks the bundle on the GPU machine."""
    return Path(tempfile.gettempdir()) / "gpu_bundle"


def activate(archive: Path = ARCHIVE) -> Optional[Path]:
    """The packed encoder's folder once the bundle is on ``sys.path``; None when there is no bundle (then the
    installed packages serve). Otherwise unpacks ``archive`` (once per machine) and replaces this process with the
    same command, the bundle on ``PYTHONPATH``."""
    folder = unpacked()
    if str(folder / "site") in sys.path:
        return folder / ENCODER
    if not archive.exists():
        return None
    if not (folder / ".unpacked").exists():
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
        (folder / ".unpacked").touch()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(folder / "site")]), "PYTHONUNBUFFERED": "1"}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def window_texts(doc) -> Iterator[str]:
    """Every substring of each whitespace-delimited word of ``doc`` that starts and ends at token boundaries."""
    word: List = []
    for token in doc:
        word.append(token)
        if token.whitespace_ or token.i == len(doc) - 1:
            for i in range(len(word)):
                for j in range(i, len(word)):
                    yield doc.text[word[i].idx: word[j].idx + len(word[j])]
            word = []


def reachable_ids(cdr: Path, tokenizer) -> Set[int]:
    """Wordpiece ids the tokenizer can produce on the CDR texts of every split, special tokens included."""
    from spacy_biobert.cli.convert import conversion_nlp
    from spacy_biobert.corpus.pubtator import read_pubtator

    nlp = conversion_nlp()
    ids: Set[int] = set(tokenizer.all_special_ids)
    for split in ("train", "dev", "test"):
        texts = [source.text for source in read_pubtator(cdr / f"{split}.pubtator.gz")]
        pieces = list(texts)
        for doc in nlp.pipe(texts):
            pieces.extend(window_texts(doc))
        for start in range(0, len(pieces), 4096):
            for row in tokenizer(pieces[start: start + 4096], add_special_tokens=False)["input_ids"]:
                ids.update(row)
    return ids


def pack(source: Path, out: Path, cdr: Path) -> dict:
    """Write the packed checkpoint of ``source`` to ``out``; return what its ``pack_info.json`` records."""
    import torch
    from safetensors.torch import load_file, save_file
    from transformers import AutoTokenizer

    keep = sorted(reachable_ids(cdr, AutoTokenizer.from_pretrained(str(source), use_fast=True)))
    weights = load_file(str(source / "model.safetensors"))
    packed = {name: tensor.to(torch.float16).contiguous() for name, tensor in weights.items()}
    embeddings = packed[EMBEDDINGS]
    mask = torch.zeros(embeddings.shape[0], dtype=torch.bool)
    mask[keep] = True
    embeddings[~mask] = 0
    error = max(float((packed[n].float() - w).abs().max()) for n, w in weights.items() if n != EMBEDDINGS)
    out.mkdir(parents=True, exist_ok=True)
    save_file(packed, str(out / "model.safetensors"), metadata={"format": "pt"})
    for name in ENCODER_FILES:
        shutil.copy(source / name, out / name)
    info = {
        "source": source.name, "source_sha256": hashlib.sha256((source / "model.safetensors").read_bytes()).hexdigest(),
        "dtype": "float16", "embedding_rows_kept": len(keep), "embedding_rows": int(embeddings.shape[0]),
        "max_abs_rounding_error_non_embedding": error,
        "note": "fp16-rounded all-MiniLM-L6-v2; word-embedding rows CDR cannot reach set to zero (bench/gpu/bundle.py)",
    }
    (out / "pack_info.json").write_text(json.dumps(info, indent=2), encoding="utf8")
    return info


def prune(site: Path) -> None:
    """Remove the packages' tests, Cython/C++ sources and console scripts; strip the extensions."""
    shutil.rmtree(site / "bin", ignore_errors=True)
    for tests in site.glob("*/tests"):
        shutil.rmtree(tests)
    for pattern in ("*.pyx", "*.pxd", "*.cpp", "*.c"):
        for path in site.rglob(pattern):
            path.unlink()
    if shutil.which("strip"):
        subprocess.run(["strip", "--strip-unneeded", *map(str, site.rglob("*.so"))], check=True)
    else:
        print("strip not found: the extensions keep their debug symbols (the bundle may be over the limit)")


def mib(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def build(args: argparse.Namespace) -> None:
    from spacy_biobert.models.encoder import EMBEDDED_ENCODER, resolve_encoder_name

    stage = ROOT / "build" / "gpu-bundle" / f"cp{args.python_version.replace('.', '')}"
    wheels, site = stage / "wheels", stage / "bundle" / "site"
    shutil.rmtree(stage, ignore_errors=True)
    wheels.mkdir(parents=True)
    target = ["--only-binary=:all:", "--python-version", args.python_version, "--implementation", "cp",
              *(f"--platform={p}" for p in PLATFORMS)]
    pip = [sys.executable, "-m", "pip"]
    print("== 1. wheels", flush=True)
    subprocess.run([*pip, "download", "-q", "--no-deps", *target, "-d", str(wheels), *WHEELS], check=True)
    subprocess.run([*pip, "wheel", "-q", "--no-deps", str(ROOT), "-w", str(wheels)], check=True)
    print(f"== 2. installed into one folder ({mib(wheels):.1f} MiB of wheels)", flush=True)
    subprocess.run([*pip, "install", "-q", "--no-deps", "--no-index", "--no-compile", "--target", str(site),
                    *target, *map(str, sorted(wheels.glob("*.whl")))], check=True)
    print("== 3. pruned", flush=True)
    prune(site)
    print(f"== 4. the embedded encoder, packed ({mib(site):.1f} MiB installed and pruned)", flush=True)
    encoder = ROOT / "build" / "gpu-bundle" / ENCODER
    if not (encoder / "pack_info.json").exists():
        print(json.dumps(pack(Path(resolve_encoder_name(EMBEDDED_ENCODER)), encoder, args.cdr), indent=2))
    if args.stage_only:
        print(f"staged in {site.parent}")
        return
    print("== 5. the archive", flush=True)
    ARCHIVE.parent.mkdir(exist_ok=True)
    part = ARCHIVE.with_suffix(".part")
    with tarfile.open(part, "w:xz", preset=9) as tar:
        tar.add(site, "site")
        tar.add(encoder, ENCODER)
    part.replace(ARCHIVE)
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split("\0")
    tree = sum((ROOT / f).stat().st_size for f in tracked if f and (ROOT / f).is_file()) / 2**20
    total = mib(ARCHIVE) + tree
    print(f"{ARCHIVE.relative_to(ROOT)}: {mib(ARCHIVE):.1f} MiB; working tree that travels: {tree:.1f} MiB; "
          f"together {total:.1f} MiB (limit {args.limit_mib})")
    if total > args.limit_mib:
        raise SystemExit(f"over {args.limit_mib} MiB: the device tool would refuse the call; prune more")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python-version", default="3.12", help="the GPU machine's Python (3.11 to try it here)")
    parser.add_argument("--cdr", type=Path, default=ROOT / "assets" / "cdr")
    parser.add_argument("--limit-mib", type=float, default=60)
    parser.add_argument("--stage-only", action="store_true", help="stop before the archive (build/gpu-bundle/cpXY)")
    build(parser.parse_args())


if __name__ == "__main__":
    main()
