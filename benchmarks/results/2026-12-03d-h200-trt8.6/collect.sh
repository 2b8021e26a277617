#!/usr/bin/env bash
# Copy the session's text results (no engines, no arrays) into $OUT/g.tgz (one file back).
out=${1:-/tmp/g}
tar -czf "$OUT/g.tgz" -C "$(dirname "$out")" --exclude='*.plan' --exclude='*.engine' --exclude='*.npz' \
    --exclude='*.onnx' --exclude='*.npy' "$(basename "$out")" 2>/dev/null
cat "$out/progress.log" 2>/dev/null
