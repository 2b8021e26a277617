#!/usr/bin/env bash
# The part of session.sh its first start could not run (`timeout pt` with pt a shell function):
# the UFF tests now, the seed tests once optimize is done and the fixtures are in /tmp/fx.
set -u
out=${1:-/tmp/g}
export PYTHONUNBUFFERED=1
stamp() { echo "$(date +%T) $*" >> "$out/progress.log"; }
pt=(python3 -X faulthandler -m pytest -m gpu -rA -q -s -p no:cacheprovider --durations=10)
for t in convnet_native ssd_heads ssd_nms_native ssd_host_nms; do
  TRTFORGE_UFF_FIXTURES=/tmp/uff TRTFORGE_GPU_RESULTS=$out/results-uff.txt timeout 150 \
      "${pt[@]}" tests/gpu/test_gpu_uff.py -k "$t" > "$out/tests-uff-$t.log" 2>&1
  stamp "uff $t rc=$? $(tail -1 "$out/tests-uff-$t.log")"
done
for i in $(seq 300); do grep -q "optimize rc" "$out/progress.log" && [ -f /tmp/fx/.ready ] && break; sleep 2; done
export TRTFORGE_GPU_FIXTURES=/tmp/fx TRTFORGE_GPU_OPT_LEVEL=1
( TRTFORGE_GPU_RESULTS=$out/results-snapshots.txt timeout 480 "${pt[@]}" tests/gpu/test_gpu_seeds.py -k snapshot \
      > "$out/tests-seeds-snapshots.log" 2>&1
  stamp "seeds snapshots rc=$? $(tail -1 "$out/tests-seeds-snapshots.log")" ) &
( TRTFORGE_GPU_RESULTS=$out/results-model4.txt timeout 480 "${pt[@]}" tests/gpu/test_gpu_seeds.py -k model4_routes \
      > "$out/tests-seeds-model4.log" 2>&1
  stamp "seeds model4 rc=$? $(tail -1 "$out/tests-seeds-model4.log")" ) &
wait; stamp "rest done"
