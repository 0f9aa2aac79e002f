#!/usr/bin/env bash
# On the GPU machine, in a device-tool `run` that carries .whl (bench/gpu/run_on_device.md, "Waves"):
#     [REL_STEPS=1800 NER_STEPS=1800 TIMEOUT=450 ...] bash bench/gpu/wave.sh JOB [JOB ...]
# Runs the CPU benchmarks' own scripts (bench_rel.py, bench_ner.py, bench_tapt.py) with --gpu-id 0, the JOBs in
# parallel on the one GPU (16 cores: --threads 2 each), each in its own folder under $GPU_WORK, and writes each
# job's results JSON to $OUT/<job>.json and every job's log to $OUT/logs.tgz. Jobs:
#   probe     bench_ner ours, 40 steps (step time and whether the stack works)
#   rel_v1    bench_rel ours_gold                  (configs/rel.cfg, RelationModel.v1)
#   rel_v2    bench_rel ours_gold_v2               (RelationModel.v2)
#   rel_v2_pair  rel_v2 with loss_reduction = "pair" (mean over candidate pairs)
#   rel_v2_lr10  rel_v2 with head_lr_scale = 10 (the head learns 10x faster than the encoder)
#   rel_base  bench_rel baseline_gold, cooccurrence_gold
#   ner_ours  bench_ner ours (configs/ner.cfg)     NER_STEPS
#   ner_peer  bench_ner peer_a                     NER_STEPS
#   e2e       bench_rel e2e_frozen_v2, cooccurrence_end_to_end, sourcing $NER_MODEL (default: the model-best of
#             an earlier ner_ours job on this machine; if there is none, this job trains its own first, as e2e_ner)
#   tapt      bench_tapt: TAPT_STEPS of masked-LM on CDR train+dev text, then NER from both encoders (TAPT_NER_STEPS)
# Every spacy train is stopped after TIMEOUT s (its last model-best is scored; the JSON says timed_out).
set -uo pipefail
cd "$(dirname "$0")/../.."
source bench/gpu/bundle.sh
OUT=${OUT:-bench/results/gpu}
W=${GPU_WORK:-/tmp/gpu_work}
REL_STEPS=${REL_STEPS:-1800}
NER_STEPS=${NER_STEPS:-1800}
TIMEOUT=${TIMEOUT:-450}
TAPT_STEPS=${TAPT_STEPS:-2000}
TAPT_NER_STEPS=${TAPT_NER_STEPS:-1000}
mkdir -p "$OUT" "$W"
python3 -c "import sys; sys.path.insert(0, 'bench'); from gpu.env import package_matches_tree as m; sys.exit(0 if m() else 1)" \
    || { echo "the bundle's spacy_biobert is not this checkout's: rebuild it (bench/gpu/prepare_wheels.sh)"; exit 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -2

common() {  # the options every job's benchmark takes: GPU, threads, its folders
    echo --gpu-id 0 --threads 2 --train-timeout-s "$TIMEOUT" --work "$W/$1" --out "$OUT/$1.json" --benchmarks "$W/$1.md"
}
rel() { local job=$1; shift
    python3 bench/bench_rel.py $(common "$job") --encoder "$MINILM" --max-steps "$REL_STEPS" \
        --eval-frequency $((REL_STEPS / 6)) --batch-size 128 "$@"
}
ner() { local job=$1 steps=$2; shift 2
    python3 bench/bench_ner.py $(common "$job") --encoder "$MINILM" --max-steps "$steps" \
        --eval-frequency $((steps / 6 > 0 ? steps / 6 : 1)) "$@"
}
job() {
    case $1 in
        probe) ner probe 40 --systems ours --eval-frequency 20 ;;
        rel_v1) rel rel_v1 --systems ours_gold ;;
        rel_v2) rel rel_v2 --systems ours_gold_v2 ;;
        rel_v2_pair) rel rel_v2_pair --systems ours_gold_v2 --override components.biobert_rel.loss_reduction=pair ;;
        rel_v2_lr10) rel rel_v2_lr10 --systems ours_gold_v2 --override components.biobert_rel.head_lr_scale=10 ;;
        rel_base) rel rel_base --systems baseline_gold,cooccurrence_gold ;;
        ner_ours) ner ner_ours "$NER_STEPS" --systems ours ;;
        ner_peer) ner ner_peer "$NER_STEPS" --systems peer_a ;;
        e2e) local model=${NER_MODEL:-$W/ner_ours/ours/model-best}
             if [ ! -d "$model" ]; then model=$W/e2e_ner/ours/model-best; ner e2e_ner "$NER_STEPS" --systems ours || return 1; fi
             rel e2e --systems e2e_frozen_v2,cooccurrence_end_to_end --ner-model "$model" \
                 --entities-model "$W/e2e/e2e_frozen_v2/model-best" ;;
        tapt) python3 bench/bench_tapt.py --gpu-id 0 --base "$MINILM" --work "$W/tapt" --out "$OUT/tapt.json" \
                  --tapt-steps "$TAPT_STEPS" --tapt-batch-size 32 --ner-steps "$TAPT_NER_STEPS" ;;
        *) echo "unknown job $1"; return 2 ;;
    esac
}
start=$(date +%s)
for name in "$@"; do
    (job "$name" > "$W/$name.log" 2>&1; echo "[$(( $(date +%s) - start )) s] $name: exit $?") &
done
wait
tar -czf "$OUT/logs.tgz" -C "$W" --exclude='*/model-*' --exclude='*/corpus' --exclude='*.spacy' \
    --exclude='*/tapt_encoder' --exclude='*/ner_original' --exclude='*/ner_tapt' . 2>/dev/null
ls "$OUT"
