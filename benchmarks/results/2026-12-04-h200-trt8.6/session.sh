#!/usr/bin/env bash
# 2026-12-04 GPU session: the whole GPU suite on the tree after the core moved into rooms and the
# zoo left the core wheel, with the TensorRT 8.x depthwise INT8 rule. Started once right after the
# rig's setup: `setsid nohup bash THIS /tmp/g > /tmp/g.log 2>&1 < /dev/null &`; later calls (each
# within 30 s of the last) run `bash benchmarks/results/2026-12-03c-h200-trt8.6/collect.sh /tmp/g`.
# Three pytest processes share the GPU:
#   A. MobileNetV2 INT8 through both routes first (the 12-03c failure), then the rest of onnx_trt;
#   B. torch2trt's rows, dynamic batch save/load, error paths, CUDA graphs, ResNet18 rows;
#   C. program (hybrid) test, profile, snapshot build; then the seeds once /tmp/fx/.ready exists.
# Every pytest process appends each test's outcome and failure text to results-*.txt at once.
set -u
out=${1:-/tmp/g}; mkdir -p "$out"
export PYTHONUNBUFFERED=1 TRTFORGE_GPU_OPT_LEVEL=1
stamp() { echo "$(date +%T) $*" >> "$out/progress.log"; }
pt=(python3 -X faulthandler -m pytest -m gpu -rA -q -p no:cacheprovider --durations=10)
run() {  # name, timeout, pytest args...
  local name=$1 limit=$2; shift 2
  TRTFORGE_GPU_RESULTS=$out/results-$name.txt timeout "$limit" "${pt[@]}" "$@" > "$out/tests-$name.log" 2>&1
  stamp "$name rc=$? $(tail -1 "$out/tests-$name.log")"
}
stamp "start $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader) $(git log -1 --format=%h 2>/dev/null)"
( run mnv2-int8 400 tests/gpu/test_gpu_routes.py -k "mobilenet_v2 and int8"
  run routes-onnx 560 tests/gpu/test_gpu_routes.py -k "onnx_trt and not (mobilenet_v2 and int8)" ) &
( run routes-rest 700 tests/gpu/test_gpu_routes.py -k "not onnx_trt and not (mobilenet_v2 and int8)" ) &
( run program-profile-snapshot 500 tests/gpu/test_gpu_program.py tests/gpu/test_gpu_profile.py \
      tests/gpu/test_gpu_snapshot_build.py
  for i in $(seq 150); do [ -f /tmp/fx/.ready ] && break; sleep 2; done
  [ -f /tmp/fx/.ready ] && TRTFORGE_GPU_FIXTURES=/tmp/fx run seeds 480 tests/gpu/test_gpu_seeds.py ) &
wait; stamp done
