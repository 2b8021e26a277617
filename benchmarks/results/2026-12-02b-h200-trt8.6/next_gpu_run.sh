#!/usr/bin/env bash
out=/tmp/g; mkdir -p $out
export PYTHONUNBUFFERED=1 TRTFORGE_GPU_OPT_LEVEL=1
stamp() { echo "$(date +%T) $*" >> $out/progress.log; }
stamp start
python3 -m pytest -m gpu -rA -q -p no:cacheprovider tests/gpu/test_gpu_snapshot_build.py > $out/snap.log 2>&1 &
a=$!
python3 -m pytest -m gpu -rA -q -p no:cacheprovider tests/gpu/test_gpu_routes.py -k "mobilenet_v2 and int8 and onnx_trt" > $out/mnv2test.log 2>&1 &
b=$!
MC=none OUT=$out python3 benchmarks/results/2026-12-02b-h200-trt8.6/diag_snapshot_mnv2.py mnv2 onnx_trt 2,19 > $out/mnv2.log 2>&1 &
mkdir -p $out/cuts; MC=none OUT=$out/cuts python3 benchmarks/results/2026-12-02b-h200-trt8.6/diag_snapshot_mnv2.py mnv2 onnx_trt 1,4 > $out/cuts.log 2>&1 &
wait $a; stamp "snap rc=$? $(tail -1 $out/snap.log)"
wait $b; stamp "mnv2test rc=$? $(tail -1 $out/mnv2test.log)"
wait; stamp done
