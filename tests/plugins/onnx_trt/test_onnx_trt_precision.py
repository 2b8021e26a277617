"""Reduced precision on a classifier trained during the test on scikit-learn's digits."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto

import trtforge
from trtforge_zoo import models as zoo
from trtforge.int8.calibration import Calibration, CalibrationCache, CalibrationCacheError
from trtforge.errors import UsageError

from .conftest import max_rel_error, run_onnx

DYNAMIC_BATCH = [trtforge.InputSpec("x", min=(1, 1, 8, 8), opt=(32, 1, 8, 8), max=(512, 1, 8, 8))]


def _convert(model: zoo.ZooModel, precision: str, **kwargs: object) -> trtforge.Engine:
    return trtforge.convert(model.model, backend="onnx_trt", precision=precision, target="sm89",
                            cache=False, inputs=DYNAMIC_BATCH, **kwargs)


def _predict(engine: trtforge.Engine, x: np.ndarray) -> np.ndarray:
    return run_onnx(engine.extras["artifacts"]["onnx"], {"x": x})[0]


def test_fp32_matches_torch(digits: zoo.ZooModel) -> None:
    x = digits.extra["digits"].x_test
    engine = _convert(digits, "fp32")
    assert max_rel_error(_predict(engine, x), digits.reference(x)) <= 1e-4


def test_fp16_agrees_with_fp32_on_the_test_set(digits: zoo.ZooModel) -> None:
    data = digits.extra["digits"]
    engine = _convert(digits, "fp16")
    graph = onnx.load_from_string(engine.extras["artifacts"]["onnx"]).graph
    assert graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT  # io kept FP32
    assert {i.data_type for i in graph.initializer} == {TensorProto.FLOAT16} or any(
        i.data_type == TensorProto.FLOAT16 for i in graph.initializer)
    got = _predict(engine, data.x_test)
    reference = digits.reference(data.x_test)
    agreement = float((got.argmax(1) == reference.argmax(1)).mean())
    assert agreement >= 0.99, agreement
    assert any(note.startswith("fp16:") and "kept in FP32" in note for note in engine.metadata["notes"])


def test_int8_accuracy_within_one_point_and_cache_skips_calibration(
        digits: zoo.ZooModel, tmp_path: Path) -> None:
    data = digits.extra["digits"]
    cache_file = tmp_path / "digits.calib.json"
    calibration = Calibration(data=data.x_train[:256], cache=cache_file, batch_size=32)
    engine = _convert(digits, "int8", calibration=calibration)
    int8_accuracy = zoo.accuracy(_predict(engine, data.x_test), data.y_test)
    fp32_accuracy = digits.extra["accuracy"]
    assert int8_accuracy >= fp32_accuracy - 0.01, (int8_accuracy, fp32_accuracy)
    assert any("calibrated 5 tensor range(s) on 8 batch(es)" in n for n in engine.metadata["notes"])

    cache = CalibrationCache.load(cache_file)
    assert cache.batches == 8 and len(cache.ranges) == 5 and all(v > 0 for v in cache.ranges.values())
    assert "x" in cache.ranges  # keyed by ONNX value names: the graph input is one of them
    written = cache_file.read_bytes()

    again = _convert(digits, "int8", calibration=Calibration(cache=cache_file))  # no data at all
    assert any("calibration skipped" in n for n in again.metadata["notes"])
    assert cache_file.read_bytes() == written
    np.testing.assert_array_equal(_predict(again, data.x_test), _predict(engine, data.x_test))


def test_int8_cache_of_another_model_is_refused(digits: zoo.ZooModel, tmp_path: Path) -> None:
    cache_file = tmp_path / "other.calib.json"
    CalibrationCache(model_fingerprint="another-model", ranges={"x": 1.0}).save(cache_file)
    with pytest.raises(CalibrationCacheError, match="another model"):
        _convert(digits, "int8", calibration=Calibration(cache=cache_file))
    with pytest.raises(UsageError, match="calibration"):
        _convert(digits, "int8")


def test_bf16_graph_is_retyped_and_builds(digits: zoo.ZooModel) -> None:
    engine = _convert(digits, "bf16")
    graph = onnx.load_from_string(engine.extras["artifacts"]["onnx"]).graph
    types = {i.data_type for i in graph.initializer}
    assert TensorProto.BFLOAT16 in types and TensorProto.FLOAT16 not in types
    casts = [a.i for n in graph.node if n.op_type == "Cast" for a in n.attribute if a.name == "to"]
    assert TensorProto.BFLOAT16 in casts and TensorProto.FLOAT16 not in casts
    assert graph.output[0].type.tensor_type.elem_type == TensorProto.FLOAT
    assert len(engine.plan) > 0 and engine.precision == "bf16"


def test_fp16_keeps_overflowing_ops_in_fp32() -> None:
    """An Exp (known to overflow) stays FP32 and the conversion says so."""
    from onnx import helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 2])
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="matmul"),
             helper.make_node("Exp", ["h"], ["y"], name="exp")]
    w = numpy_helper.from_array(np.full((3, 2), 4.0, np.float32), "w")
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], [w]),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    engine = trtforge.convert(model, backend="onnx_trt", precision="fp16", target="sm89", cache=False)
    prepared = onnx.load_from_string(engine.extras["artifacts"]["onnx"])
    assert any("kept in FP32: Exp x1" in note for note in engine.metadata["notes"])
    feeds = {"x": np.full((4, 3), 0.9, np.float32)}  # exp(10.8) ~ 49000: fine in FP32
    got = run_onnx(prepared, feeds)[0]
    np.testing.assert_allclose(got, np.exp(np.full((4, 2), 10.8)), rtol=2e-3)
    exp_node = next(n for n in prepared.graph.node if n.op_type == "Exp")
    producer = {o: n for n in prepared.graph.node for o in n.output}
    assert producer[exp_node.input[0]].op_type == "Cast"  # fed back in FP32
    assert json.dumps(engine.metadata["notes"])  # notes are plain JSON
