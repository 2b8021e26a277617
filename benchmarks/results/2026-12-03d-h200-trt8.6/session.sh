#!/usr/bin/env bash
# 2026-12-03d GPU session, started once right after the rig's setup:
#   `setsid nohup bash THIS /tmp/g > /tmp/g.log 2>&1 < /dev/null &`; later calls (each within 30 s
#   of the last) copy the seed fixture packs to /tmp/fx (then touch /tmp/fx/.ready) and run
#   `bash benchmarks/results/2026-12-03c-h200-trt8.6/collect.sh /tmp/g` for the text results.
# 1. `trtforge optimize` on ResNet50 (both torch routes x fp32/fp16, batch 64, Triton repository),
#    alone on the GPU but for the four small UFF tests (one process each: one segfaulted in 12-03c),
#    then `trtforge profile` of the winner;
# 2. then, in parallel: the seed snapshots rebuilt with `trtforge build` (onnx_trt, tf_trt,
#    torch2trt), the model4 route tests, and the MobileNetV2 INT8 probe (mnv2_int8_probe.py).
# Every pytest process appends each test's outcome and failure text to results-*.txt at once.
set -u
out=${1:-/tmp/g}; mkdir -p "$out"
here=benchmarks/results/2026-12-03d-h200-trt8.6
export PYTHONUNBUFFERED=1
stamp() { echo "$(date +%T) $*" >> "$out/progress.log"; }
pt=(python3 -X faulthandler -m pytest -m gpu -rA -q -s -p no:cacheprovider --durations=10)
stamp "start $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
( for t in convnet_native ssd_heads ssd_nms_native ssd_host_nms; do
    TRTFORGE_UFF_FIXTURES=/tmp/uff TRTFORGE_GPU_RESULTS=$out/results-uff.txt timeout 150 \
        "${pt[@]}" tests/gpu/test_gpu_uff.py -k "$t" > "$out/tests-uff-$t.log" 2>&1
    stamp "uff $t rc=$? $(tail -1 "$out/tests-uff-$t.log")"
  done ) &
timeout 560 python3 -m trtforge optimize torchvision:resnet50 -b onnx_trt,torch2trt -p fp32,fp16 --batch 64 \
    -i x:1x3x224x224,64x3x224x224,64x3x224x224 --iterations 50 --no-cache \
    --out "$out/opt" --format triton --dynamic-batching > "$out/optimize.log" 2>&1
stamp "optimize rc=$?"
plan=$(ls "$out"/opt/*/1/model.plan 2>/dev/null | head -1)
if [ -n "$plan" ]; then
  timeout 120 python3 -m trtforge profile "$plan" --batch 64 --iterations 20 --top 15 -o "$out/profile.json" \
      > "$out/profile.txt" 2>&1
  stamp "profile rc=$? $plan"
fi
( OUT=$out timeout 400 python3 $here/mnv2_int8_probe.py > "$out/mnv2.log" 2>&1; stamp "mnv2 probe rc=$?" ) &
for i in $(seq 120); do [ -f /tmp/fx/.ready ] && break; sleep 2; done
export TRTFORGE_GPU_FIXTURES=/tmp/fx TRTFORGE_GPU_OPT_LEVEL=1
( TRTFORGE_GPU_RESULTS=$out/results-snapshots.txt timeout 480 "${pt[@]}" tests/gpu/test_gpu_seeds.py -k snapshot \
      > "$out/tests-seeds-snapshots.log" 2>&1
  stamp "seeds snapshots rc=$? $(tail -1 "$out/tests-seeds-snapshots.log")" ) &
( TRTFORGE_GPU_RESULTS=$out/results-model4.txt timeout 480 "${pt[@]}" tests/gpu/test_gpu_seeds.py -k model4_routes \
      > "$out/tests-seeds-model4.log" 2>&1
  stamp "seeds model4 rc=$? $(tail -1 "$out/tests-seeds-model4.log")" ) &
wait; stamp done
