#!/usr/bin/env bash
# This session's unattended GPU run (gpu-rig machine, after /tmp/kit/setup.sh, fixtures in /tmp/fx):
#  A. the whole GPU suite (routes + profile + snapshot rebuild | seed fixtures) in parallel with the
#     MobileNetV2 INT8 bisection of the previous session (diag_snapshot_mnv2.py);
#     plus the hybrid-program test (ResNet18 with a custom op: program vs full engine, timed);
#  B. the GPU report resumed from 2026-12-02's, re-running the torch2trt INT8 unit (stem bias as
#     weights since 31210dd) and adding the torch2trt batch-1 latency unit;
#  C. `trtforge profile` of one saved engine; the uff route against trt.UffParser (fixtures in /tmp/uff).
# (Written for 2026-12-02c, whose machine was taken back before anything came back; run 2026-12-03.)
# Everything lands in $1 (default /tmp/g); progress in $1/progress.log.
set -u
out=${1:-/tmp/g}; mkdir -p "$out/cuts" "$out/report" "$out/engines"
export PYTHONUNBUFFERED=1 TRTFORGE_GPU_OPT_LEVEL=1
here=benchmarks/results/2026-12-02b-h200-trt8.6
stamp() { echo "$(date +%T) $*" >> "$out/progress.log"; }
stamp start
python3 -m pytest -m gpu -rA -q -p no:cacheprovider --durations=15 \
    tests/gpu/test_gpu_routes.py tests/gpu/test_gpu_profile.py tests/gpu/test_gpu_snapshot_build.py \
    > "$out/tests-routes.log" 2>&1 &
routes=$!
TRTFORGE_GPU_FIXTURES=/tmp/fx python3 -m pytest -m gpu -rA -q -p no:cacheprovider --durations=10 \
    tests/gpu/test_gpu_seeds.py > "$out/tests-seeds.log" 2>&1 &
seeds=$!
TRTFORGE_UFF_FIXTURES=/tmp/uff python3 -m pytest -m gpu -rA -q -p no:cacheprovider tests/gpu/test_gpu_uff.py \
    > "$out/tests-uff.log" 2>&1 &
uff=$!
( MC=none OUT=$out/cuts python3 $here/diag_snapshot_mnv2.py mnv2 onnx_trt 1,4 > "$out/cuts.log" 2>&1
  MC=none OUT=$out python3 $here/diag_snapshot_mnv2.py mnv2 onnx_trt 2,19 > "$out/mnv2.log" 2>&1
  stamp "diag done" ) &
wait $routes; stamp "tests routes rc=$? $(tail -1 "$out/tests-routes.log")"
TRTFORGE_GPU_REPORT_DIR=$out python3 -m pytest -m gpu -rA -q -s -p no:cacheprovider tests/gpu/test_gpu_program.py \
    > "$out/tests-program.log" 2>&1
stamp "tests program rc=$? $(tail -1 "$out/tests-program.log")"
wait $uff; stamp "tests uff rc=$? $(tail -1 "$out/tests-uff.log")"
wait $seeds; stamp "tests seeds rc=$? $(tail -1 "$out/tests-seeds.log")"
python3 - "$out/report/gpu_report.json" <<'PY'
import json, sys
state = json.load(open("benchmarks/results/2026-12-02-h200-trt8.6/gpu_report.json"))
state["units"].pop("torch2trt/int8", None)
json.dump(state, open(sys.argv[1], "w"))
PY
python3 benchmarks/gpu_report.py --out "$out/report" --iterations 100 --warmup 10 --resume \
    --save-engines "$out/engines" --deadline 420 > "$out/report.log" 2>&1
stamp "report rc=$?"
plan=$(ls "$out"/engines/*.engine 2>/dev/null | head -1)
[ -n "$plan" ] && python3 -m trtforge profile "$plan" --batch 16 > "$out/profile.txt" 2>&1
stamp "profile rc=$? $plan"
wait; stamp done
