#!/usr/bin/env bash
# Build .whl/gpu-bundle.tar.xz: what the GPU machine needs to run bench/bench_gpu.py, small enough for one call
# of the device tool (64 MiB with the working tree; this script stops at LIMIT_MIB, default 60).
#
# Run here (x86-64 Linux, pip reaches PyPI), from any folder, in the checkout the device tool sends (the one the
# session was started in):   LOCK=/tmp/spacy_biobert_cpu.lock bash bench/gpu/prepare_wheels.sh
# Environment: PYTHON (default .venv/bin/python: it needs spacy-biobert installed, to pack the encoder), PYVER
# (default 3.12, the machine's Python; 3.11 stages one for this machine, to check it), LIMIT_MIB (default 60),
# LOCK (a file: the CPU-heavy steps -- packing the encoder, about 1.5 min, and xz at its highest preset, about
# 3 min -- wait for `flock` on it), STAGE_ONLY=1 (stop after step 4: build/gpu-bundle/cpXY/bundle, no archive).
#
# Steps: 1. the wheels of bench/gpu/wheels.txt with the device README's recipe (pip download --no-deps
# --only-binary=:all: --python-version ... --platform manylinux...), and ours with `pip wheel --no-deps .`;
# 2. all installed with --no-deps into one --target folder for that Python (no console scripts, no .pyc);
# 3. pruned: the packages' tests, Cython/C++ sources, debug symbols of the extensions (strip --strip-unneeded);
# 4. the embedded MiniLM packed by bench/gpu/pack_minilm.py (fp16, CDR-unreachable embedding rows zeroed; cached in
# build/gpu-bundle/minilm_cdr_fp16: delete it after a change to the tokenizer or to CDR);
# 5. site/ and minilm_cdr_fp16/ in one tar.xz. Why not the wheels themselves: they are 70 MiB without the
# encoder (spaCy's alone 35 MiB), and the encoder's wheel 83 MiB; stripped and xz-compressed they fit.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
PYVER=${PYVER:-3.12}
LIMIT_MIB=${LIMIT_MIB:-60}
TAG=cp${PYVER/./}
BUILD=build/gpu-bundle
STAGE=$BUILD/$TAG
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64
           --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64
           --platform manylinux_2_5_x86_64)
TARGET=(--only-binary=:all: --python-version "$PYVER" --implementation cp "${PLATFORMS[@]}")

echo "== 1. wheels for Python $PYVER"
rm -rf "$STAGE" && mkdir -p "$STAGE/wheels" "$STAGE/bundle" .whl
grep -v '^\s*#' bench/gpu/wheels.txt | grep -v '^\s*$' > "$STAGE/requirements.txt"
"$PY" -m pip download -q --no-deps "${TARGET[@]}" -d "$STAGE/wheels" -r "$STAGE/requirements.txt"
"$PY" -m pip wheel -q --no-deps . -w "$STAGE/wheels"
du -ch "$STAGE"/wheels/*.whl | tail -1 | sed 's/total/wheels, as downloaded and built/'

echo "== 2. installed into one folder"
"$PY" -m pip install -q --no-deps --no-index --no-compile --target "$STAGE/bundle/site" "${TARGET[@]}" "$STAGE"/wheels/*.whl
rm -rf "$STAGE/bundle/site/bin"

echo "== 3. pruned"
find "$STAGE/bundle/site" -mindepth 2 -maxdepth 2 -type d -name tests -prune -exec rm -rf {} +
find "$STAGE/bundle/site" \( -name '*.pyx' -o -name '*.pxd' -o -name '*.cpp' -o -name '*.c' \) -delete
if command -v strip >/dev/null; then
    find "$STAGE/bundle/site" -name '*.so' -exec strip --strip-unneeded {} +
else
    echo "strip not found: extensions keep their debug symbols (the bundle may be over the limit)"
fi
du -sh "$STAGE/bundle/site" | sed 's/\t.*/ installed and pruned/'

echo "== 4. the embedded encoder, packed"
if [ ! -f "$BUILD/minilm_cdr_fp16/pack_info.json" ]; then
    ${LOCK:+flock "$LOCK"} "$PY" bench/gpu/pack_minilm.py "$BUILD/minilm_cdr_fp16"
fi
cp -r "$BUILD/minilm_cdr_fp16" "$STAGE/bundle/"
if [ "${STAGE_ONLY:-0}" = 1 ]; then echo "staged in $STAGE/bundle"; exit 0; fi

echo "== 5. .whl/gpu-bundle.tar.xz"
rm -f .whl/gpu-bundle.tar.xz
tar -C "$STAGE/bundle" -cf - site minilm_cdr_fp16 | ${LOCK:+flock "$LOCK"} xz -9 -T1 > .whl/gpu-bundle.tar.xz.part
mv .whl/gpu-bundle.tar.xz.part .whl/gpu-bundle.tar.xz
ls "$STAGE/bundle/site" | grep -E '\.dist-info$' | sed 's/\.dist-info$//' > .whl/gpu-bundle.txt

mib() { echo "scale=1; $1 / 1048576" | bc; }
bundle=$(du -cb .whl | tail -1 | cut -f1)
tree=$(git ls-files -co --exclude-standard -z | xargs -0 du -cb 2>/dev/null | grep total$ | awk '{s+=$1} END {print s+0}')
echo "carried .whl/: $(mib "$bundle") MiB; working tree that travels: $(mib "$tree") MiB; together: $(mib $((bundle + tree))) MiB (limit $LIMIT_MIB)"
if [ $((bundle + tree)) -gt $((LIMIT_MIB * 1048576)) ]; then
    echo "ERROR: over $LIMIT_MIB MiB: the device tool would refuse the call. Prune more (bench/gpu/wheels.txt, step 3)." >&2
    exit 1
fi
