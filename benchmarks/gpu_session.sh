#!/usr/bin/env bash
# Everything the real-GPU verification runs, unattended, in the order that matters most
# (gpu-rig machine, after /tmp/kit/setup.sh; start it with `setsid nohup ... &` and read the
# logs in later calls): the GPU report's engines (alone on the GPU: it times them), per-layer
# profiles of its fp16 engines, the GPU suite (routes and seed fixtures in parallel: behaviour
# only), then the report's timing-cache rebuild and PyTorch baselines. Results in $1.
set -u
out=${1:-/tmp/gpu}
iterations=${ITERATIONS:-100}
mkdir -p "$out/engines"
export PYTHONUNBUFFERED=1
py=${PY:-python3}  # the rig installs into the system python (.venv-gpu links to it)
stamp() { echo "$(date +%T) $*" >> "$out/progress.log"; }
stamp start
$py benchmarks/gpu_report.py --out "$out/report" --iterations "$iterations" --warmup 10 \
    --units engines --save-engines "$out/engines" > "$out/report-engines.log" 2>&1
stamp "report engines rc=$?"
for engine in "$out"/engines/*fp16.engine; do
  [ -f "$engine" ] || continue
  name=$(basename "$engine" .engine)
  $py -m trtforge profile "$engine" --batch 256 --iterations 20 --top 15 -o "$out/$name.profile.json" \
      > "$out/$name.profile.txt" 2>&1
  stamp "profile $name rc=$?"
done
TRTFORGE_GPU_OPT_LEVEL=${OPT_LEVEL:-1} $py -m pytest -m gpu -rs -q -p no:cacheprovider \
    tests/gpu/test_gpu_routes.py tests/gpu/test_gpu_profile.py tests/gpu/test_gpu_snapshot_build.py \
    > "$out/tests-routes.log" 2>&1 &
routes=$!
TRTFORGE_GPU_OPT_LEVEL=${OPT_LEVEL:-1} TRTFORGE_GPU_FIXTURES=${FIXTURES:-/tmp/fx} \
    $py -m pytest -m gpu -rs -q -p no:cacheprovider tests/gpu/test_gpu_seeds.py > "$out/tests-seeds.log" 2>&1 &
seeds=$!
wait $routes; stamp "tests routes rc=$?"
wait $seeds; stamp "tests seeds rc=$?"
$py benchmarks/gpu_report.py --out "$out/report" --iterations "$iterations" --warmup 10 \
    --units engines,rebuild,baselines --resume > "$out/report-rest.log" 2>&1
stamp "report rest rc=$?"
stamp done
