#!/usr/bin/env bash
# 2026-12-03c GPU session (gpu-rig machine, after /tmp/kit/setup.sh; seed fixtures in /tmp/fx,
# UFF fixtures in /tmp/uff). Start: `setsid nohup bash THIS /tmp/g > /tmp/g.log 2>&1 < /dev/null &`;
# every later call must follow the last within 30 s and runs `bash THIS-collect` to copy text results.
#   phase 1 (behaviour; builds share the GPU): the GPU suite split in five processes -
#     routes (onnx_trt | the rest, incl. profile and snapshot rebuild), seed fixtures (ONNX files,
#     model4 routes, onnx_trt/tf_trt/torch2trt snapshots rebuilt with `trtforge build`), UFF
#     (our .uff vs trt.UffParser + the parser probe), the hybrid program; plus the 12-03b smoke
#     script (torch2trt int8 Q/DQ, onnx_trt fp16, TRTModule state_dict round trip);
#   phase 2 (alone on the GPU, it times): `trtforge optimize` on ResNet50 over both torch routes x
#     fp32/fp16/int8 at batch 64, written as a Triton repository, then `trtforge profile` of the winner.
set -u
out=${1:-/tmp/g}; mkdir -p "$out"
export PYTHONUNBUFFERED=1 TRTFORGE_GPU_OPT_LEVEL=${OPT_LEVEL:-1}
here=benchmarks/results/2026-12-03c-h200-trt8.6
stamp() { echo "$(date +%T) $*" >> "$out/progress.log"; }
pt() { python3 -m pytest -m gpu -rA -q -p no:cacheprovider --durations=10 "$@"; }
stamp "start $(git rev-parse --short HEAD 2>/dev/null) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
if [ "${SKIP_PHASE1:-0}" != 1 ]; then
  pt tests/gpu/test_gpu_routes.py -k onnx_trt > "$out/tests-routes-onnx.log" 2>&1 &
  r1=$!
  pt tests/gpu/test_gpu_routes.py tests/gpu/test_gpu_profile.py tests/gpu/test_gpu_snapshot_build.py \
      -k "not onnx_trt" > "$out/tests-routes-rest.log" 2>&1 &
  r2=$!
  TRTFORGE_GPU_FIXTURES=/tmp/fx pt tests/gpu/test_gpu_seeds.py > "$out/tests-seeds.log" 2>&1 &
  r3=$!
  ( TRTFORGE_UFF_FIXTURES=/tmp/uff pt tests/gpu/test_gpu_uff.py > "$out/tests-uff.log" 2>&1
    stamp "tests uff rc=$? $(tail -1 "$out/tests-uff.log")"
    if [ -f tests/gpu/uff_parser_probe.py ]; then
      timeout 120 python3 tests/gpu/uff_parser_probe.py /tmp/uff > "$out/uff-probe.log" 2>&1
      stamp "uff probe rc=$?"
    fi
    TRTFORGE_GPU_REPORT_DIR=$out pt -s tests/gpu/test_gpu_program.py > "$out/tests-program.log" 2>&1
    stamp "tests program rc=$? $(tail -1 "$out/tests-program.log")"
    OUT=$out/smoke python3 benchmarks/results/2026-12-03b-h200-trt8.6/smoke.py > "$out/smoke.log" 2>&1
    stamp "smoke rc=$?" ) &
  r4=$!
  wait $r1; stamp "tests routes onnx_trt rc=$? $(tail -1 "$out/tests-routes-onnx.log")"
  wait $r2; stamp "tests routes rest rc=$? $(tail -1 "$out/tests-routes-rest.log")"
  wait $r3; stamp "tests seeds rc=$? $(tail -1 "$out/tests-seeds.log")"
  wait $r4
fi
stamp "phase 2: optimize"
python3 -m trtforge optimize torchvision:resnet50 -b onnx_trt,torch2trt -p fp32,fp16,int8 --batch 64 \
    -i x:1x3x224x224,64x3x224x224,64x3x224x224 --iterations 100 --no-cache \
    --out "$out/opt" --format triton --dynamic-batching --json > "$out/optimize.log" 2>&1
stamp "optimize rc=$?"
plan=$(ls "$out"/opt/*/1/model.plan 2>/dev/null | head -1)
if [ -n "$plan" ]; then
  python3 -m trtforge profile "$plan" --batch 64 --iterations 20 --top 15 -o "$out/profile.json" \
      > "$out/profile.txt" 2>&1
  stamp "profile rc=$? $plan"
fi
stamp done
