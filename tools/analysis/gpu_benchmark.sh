#!/usr/bin/env bash
# Benchmark the full SGSRF model on one GPU (H100 / H200; a few minutes).
#
#   1. 512 px, bf16, batch 8: training step (with its stages, FLOPs and
#      TFLOP/s) against the library towers' floor, inference images/s, and
#      the training step with use_sdpa switched off.
#   2. 1024 px, bf16, batch 8: training step time and peak memory with and
#      without use_sdpa (an out-of-memory variant is recorded as such).
#
# Usage:
#   bash tools/analysis/gpu_benchmark.sh OUT_DIR [CONFIG]
# Writes OUT_DIR/{gpu.csv, sgsrf_512_bf16_b8.json, sgsrf_1024_bf16_b8.json}
# and the printed tables as .log files. Packages the machine lacks can be
# installed first from a folder of wheels: WHEEL_DIR=DIR bash ...; PYTHON
# selects the interpreter (default python3).
set -uo pipefail

if [ $# -lt 1 ]; then
    echo "usage: bash $0 OUT_DIR [CONFIG]" >&2
    exit 2
fi
mkdir -p "$1"
OUT_DIR=$(cd "$1" && pwd)
CONFIG=${2:-configs/_base_/models/sgsrf_vit-b16_sam-vit-b.py}
if [ -f "$CONFIG" ]; then
    CONFIG=$(realpath "$CONFIG")
fi
PYTHON=${PYTHON:-python3}
cd "$(dirname "$0")/../.."

if [ -n "${WHEEL_DIR:-}" ]; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile \
        --target /tmp/sgsrf_site "$WHEEL_DIR"/*.whl || exit 1
    export PYTHONPATH=/tmp/sgsrf_site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
    > "$OUT_DIR/gpu.csv" 2>&1 || true

status=0
bench() {  # bench NAME TIMEOUT_S ARGS...
    local name=$1 limit=$2
    shift 2
    timeout "$limit" "$PYTHON" tools/analysis/benchmark.py "$CONFIG" \
        --device cuda --dtype bf16 --batch-size 8 "$@" \
        --out "$OUT_DIR/$name.json" 2>&1 | tee "$OUT_DIR/$name.log"
    local rc=$?
    if [ $rc -ne 0 ]; then
        echo "$name failed (exit $rc)" >&2
        status=1
    fi
}

bench sgsrf_512_bf16_b8 300 --input-size 512 --warmup 3 --iters 10 \
    --compare use_sdpa
bench sgsrf_1024_bf16_b8 200 --input-size 1024 --warmup 1 --iters 3 \
    --skip infer flops floor stages --compare use_sdpa
exit $status
