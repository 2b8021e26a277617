# Re-run of the MobileNetV2 INT8 rows (the first try raced the working-tree copy of a later device call).
out=/tmp/g; export PYTHONUNBUFFERED=1 TRTFORGE_GPU_OPT_LEVEL=1
TRTFORGE_GPU_RESULTS=$out/results-mnv2-int8b.txt timeout 450 python3 -X faulthandler -m pytest -m gpu -rA -q -p no:cacheprovider tests/gpu/test_gpu_routes.py -k "mobilenet_v2 and int8" > $out/tests-mnv2-int8b.log 2>&1
echo "$(date +%T) mnv2-int8b rc=$? $(tail -1 $out/tests-mnv2-int8b.log)" >> $out/progress.log
