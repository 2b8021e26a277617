#!/usr/bin/env bash
# Second machine of 2026-12-03c (the first was given back mid-run, 901 s of device time left):
# what the first did not reach, in one call: `trtforge optimize` on ResNet50 (both torch routes x
# fp32/fp16, batch 64), the seed snapshots rebuilt with `trtforge build` (onnx_trt, tf_trt,
# torch2trt) plus model4 fp16, and the UFF tests one process each (one segfaulted in the first run).
set -u
out=${1:-/tmp/g}; mkdir -p "$out"
export PYTHONUNBUFFERED=1 TRTFORGE_GPU_OPT_LEVEL=1
stamp() { echo "$(date +%T) $*" >> "$out/progress.log"; }
pt() { python3 -m pytest -m gpu -rA -q -p no:cacheprovider --durations=10 "$@"; }
stamp start
( TRTFORGE_GPU_OPT_LEVEL= timeout 520 python3 -m trtforge optimize torchvision:resnet50 -b onnx_trt,torch2trt \
    -p fp32,fp16 --batch 64 -i x:1x3x224x224,64x3x224x224,64x3x224x224 --iterations 50 --no-cache \
    --out "$out/opt" --format triton --dynamic-batching > "$out/optimize.log" 2>&1
  stamp "optimize rc=$?" ) &
( TRTFORGE_GPU_FIXTURES=/tmp/fx timeout 520 python3 -m pytest -m gpu -rA -q -p no:cacheprovider \
    tests/gpu/test_gpu_seeds.py -k "snapshot or (model4 and fp16)" > "$out/tests-seeds.log" 2>&1
  stamp "tests seeds rc=$? $(tail -1 "$out/tests-seeds.log")" ) &
( for t in convnet_native ssd_heads ssd_nms_native ssd_host_nms; do
    TRTFORGE_UFF_FIXTURES=/tmp/uff timeout 120 python3 -X faulthandler -m pytest -m gpu -rA -q -s \
        -p no:cacheprovider tests/gpu/test_gpu_uff.py -k "$t" > "$out/tests-uff-$t.log" 2>&1
    stamp "uff $t rc=$? $(tail -1 "$out/tests-uff-$t.log")"
  done ) &
wait; stamp done
