"""`trtforge compare` and the demo give tf_trt rows for the TensorFlow seed models, beside the
ONNX route's rows for the same model (which tf_trt leaves as they were)."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("tensorflow")


def test_compare_puts_tf_trt_beside_onnx_trt_for_the_tf1_seed_model(tmp_path: Path) -> None:
    from trtforge.report.comparison import compare
    from trtforge_zoo.demo import build_model, compare_arguments

    seed = build_model("model1", tmp_path)
    result = compare(seed.model, precisions=["fp32", "fp16"], target="sm89", cache=False,
                     baseline_iterations=2, **compare_arguments(seed))
    rows = {(r.route, r.precision): r for r in result.rows}
    for route in ("tf_trt", "onnx_trt"):
        for precision in ("fp32", "fp16"):
            row = rows[(route, precision)]
            assert row.status == "ok", (route, precision, row.reason)
            assert row.engine_bytes and row.target == "sm89"
            assert row.numerics is not None and row.numerics["passed"], (route, precision, row.numerics)
    assert rows[("tf_trt", "fp32")].unsupported == []
    # the TensorFlow baseline is the same for every route's row
    assert any(b.framework.startswith("tensorflow") for b in result.baselines)
