#!/usr/bin/env bash
# On the GPU machine, in a device-tool `run` that carries .whl (bench/gpu/run_on_device.md):
#     bash bench/gpu/device.sh PART [more bench/bench_gpu.py options]
# Unpacks .whl/gpu-bundle.tar.xz into /tmp/gpu_bundle (once per machine), puts its site/ first on PYTHONPATH (so
# its transformers 4.53.2 shadows the image's 5.x), and runs one part of bench/bench_gpu.py with the packed MiniLM,
# the JSON results and a log in $OUT. Work files go to /tmp/gpu_work: gone when the machine goes back.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-bench/results/gpu}
PART=${1:?usage: bash bench/gpu/device.sh env|throughput|train-ner|train-rel [options]}
shift
source bench/gpu/bundle.sh
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -2
python3 bench/bench_gpu.py --part "$PART" --out "$OUT" --work /tmp/gpu_work --minilm "$MINILM" "$@" \
    2>&1 | tee "$OUT/gpu_${PART//-/_}.log"
exit "${PIPESTATUS[0]}"
