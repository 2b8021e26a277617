#!/usr/bin/env bash
# The real-GPU verification, unattended (gpu-rig machine, after /tmp/kit/setup.sh). Start it with
# `setsid nohup bash benchmarks/gpu_session.sh /tmp/gpu > /tmp/gpu.log 2>&1 < /dev/null &` and
# read "$out/progress.log" in later calls, each of which must follow the last within 30 s
# (`sleep 170; cat /tmp/gpu/progress.log` keeps the machine).
#
# Order (what was learnt on 2026-12-01: the machine's 30 device-minutes include ~6 for the rig):
#   1. the GPU suite at builder level ${OPT_LEVEL:-1}: routes x precisions x models, runtime,
#      profile, snapshot rebuild, in parallel with the seed fixtures (if carried to $FIXTURES);
#      behaviour only, so builds may share the GPU;
#   2. the GPU report alone on the GPU (it times): with RESUME_FROM=<an earlier gpu_report.json>
#      only the units that run lacks are run (e.g. baselines and the timing-cache rebuild);
#   3. `trtforge profile` of the engines the report saved (those it built in this run).
set -u
out=${1:-/tmp/gpu}
iterations=${ITERATIONS:-100}
mkdir -p "$out/engines" "$out/report"
export PYTHONUNBUFFERED=1
py=${PY:-python3}  # the rig installs into the system python (.venv-gpu links to it)
stamp() { echo "$(date +%T) $*" >> "$out/progress.log"; }
stamp start
TRTFORGE_GPU_OPT_LEVEL=${OPT_LEVEL:-1} $py -m pytest -m gpu -rs -q -p no:cacheprovider \
    tests/gpu/test_gpu_routes.py tests/gpu/test_gpu_profile.py tests/gpu/test_gpu_snapshot_build.py \
    > "$out/tests-routes.log" 2>&1 &
routes=$!
TRTFORGE_GPU_OPT_LEVEL=${OPT_LEVEL:-1} TRTFORGE_GPU_FIXTURES=${FIXTURES:-/tmp/fx} \
    $py -m pytest -m gpu -rs -q -p no:cacheprovider tests/gpu/test_gpu_seeds.py > "$out/tests-seeds.log" 2>&1 &
seeds=$!
wait $routes; stamp "tests routes rc=$? $(tail -1 "$out/tests-routes.log")"
wait $seeds; stamp "tests seeds rc=$? $(tail -1 "$out/tests-seeds.log")"
resume=()
if [ -n "${RESUME_FROM:-}" ]; then
  cp "$RESUME_FROM" "$out/report/gpu_report.json" && resume=(--resume)
fi
$py benchmarks/gpu_report.py --out "$out/report" --iterations "$iterations" --warmup 10 \
    --save-engines "$out/engines" "${resume[@]}" > "$out/report.log" 2>&1
stamp "report rc=$?"
for engine in "$out"/engines/*.engine; do
  [ -f "$engine" ] || continue
  name=$(basename "$engine" .engine)
  $py -m trtforge profile "$engine" --batch 256 --iterations 20 --top 15 -o "$out/$name.profile.json" \
      > "$out/$name.profile.txt" 2>&1
  stamp "profile $name rc=$?"
done
stamp done
