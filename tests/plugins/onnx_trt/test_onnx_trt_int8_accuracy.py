"""INT8 through onnx_trt: the shared calibration methods, and accuracy control (the nodes
whose rounding hurts the output most stay in float, recorded in the calibration cache)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import onnx
import pytest

import trtforge
from trtforge_zoo import models as zoo
from trtforge.int8.calibration import Calibration, CalibrationCache
from trtforge.verify.checking import check
from trtforge.errors import UsageError

DIGITS_BATCH = [trtforge.InputSpec("x", min=(1, 1, 8, 8), opt=(32, 1, 8, 8), max=(512, 1, 8, 8))]
MODEL4_BATCH = [trtforge.InputSpec("x", min=(1, 3, 64, 64), opt=(2, 3, 64, 64), max=(8, 3, 64, 64))]


def _dequantized_convs(engine: trtforge.Engine) -> tuple[set[str], set[str]]:
    """(Conv/Gemm nodes reading a dequantized activation, those reading a float one)."""
    graph = onnx.load_from_string(engine.extras["artifacts"]["onnx"]).graph
    dequantized = {n.output[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    convs = [n for n in graph.node if n.op_type in ("Conv", "Gemm")]
    return ({n.name for n in convs if n.input[0] in dequantized},
            {n.name for n in convs if n.input[0] not in dequantized})


def test_calibration_methods_are_honoured(digits: zoo.ZooModel, tmp_path: Path) -> None:
    data = digits.extra["digits"].x_train[:256]
    peaks_file, mse_file = tmp_path / "max.calib.json", tmp_path / "mse.calib.json"
    for method, cache_file in (("max", peaks_file), ("mse", mse_file)):
        engine = trtforge.convert(digits.model, backend="onnx_trt", precision="int8", target="sm89", cache=False,
                                  inputs=DIGITS_BATCH, options={"int8_min_cosine": 0},
                                  calibration=Calibration(data=data, batch_size=32, cache=cache_file, method=method))
        assert any(f"({method})" in note and "calibrated" in note for note in engine.metadata["notes"])
    peaks, mse = CalibrationCache.load(peaks_file), CalibrationCache.load(mse_file)
    assert (peaks.method, mse.method) == ("max", "mse") and peaks.ranges.keys() == mse.ranges.keys()
    assert all(mse.ranges[k] <= peaks.ranges[k] for k in peaks.ranges)
    assert any(mse.ranges[k] < peaks.ranges[k] for k in peaks.ranges)
    with pytest.raises(UsageError, match="calibration method"):
        trtforge.convert(digits.model, backend="onnx_trt", precision="int8", target="sm89", cache=False,
                         inputs=DIGITS_BATCH, calibration=Calibration(data=data, method="entropy"))
    with pytest.raises(UsageError, match="int8_min_cosine"):
        trtforge.convert(digits.model, backend="onnx_trt", precision="int8", target="sm89", cache=False,
                         inputs=DIGITS_BATCH, calibration=data, options={"int8_min_cosine": 2})


def test_accuracy_control_leaves_a_well_behaved_model_in_int8(digits: zoo.ZooModel, tmp_path: Path) -> None:
    cache_file = tmp_path / "digits.calib.json"
    engine = trtforge.convert(digits.model, backend="onnx_trt", precision="int8", target="sm89", cache=False,
                              inputs=DIGITS_BATCH,
                              calibration=Calibration(data=digits.extra["digits"].x_train[:64], cache=cache_file))
    assert any("accuracy control: all" in note for note in engine.metadata["notes"])
    assert CalibrationCache.load(cache_file).unquantized == []
    quantized, floating = _dequantized_convs(engine)
    assert quantized and not floating


@pytest.mark.slow
def test_model4_int8_passes_check(seed_model: Callable[[str], zoo.ZooModel], tmp_path: Path) -> None:
    """All-INT8 random-weight ResNet50 ends at cosine ~0.86 (its depth amplifies rounding);
    accuracy control keeps the most sensitive convolutions in float, the rest in INT8, and a
    conversion from the cache alone builds the same Q/DQ model."""
    m = seed_model("model4")
    cache_file = tmp_path / "model4.calib.json"
    # calibration batches from the distribution check draws its inputs from (standard normal)
    data = np.random.default_rng(7).standard_normal((32, 3, 64, 64)).astype(np.float32)
    engine = trtforge.convert(m.model, backend="onnx_trt", precision="int8", target="sm89", cache=False,
                              inputs=MODEL4_BATCH, calibration=Calibration(data=data, batch_size=8, cache=cache_file))
    for seed in (0, 1):
        report = check(m.model, engine, seed=seed)
        metrics = report.outputs[0]
        assert report.passed, report.outputs
        assert metrics.cosine >= 0.97 and metrics.max_abs <= 0.25 * metrics.value_range, metrics
    cache = CalibrationCache.load(cache_file)
    quantized, floating = _dequantized_convs(engine)
    assert floating == set(cache.unquantized or []) and 0 < len(floating) < len(quantized) + len(floating)
    assert len(quantized) + len(floating) == 54
    assert any(f"{len(floating)} of 54 quantized nodes kept in float" in note for note in engine.metadata["notes"])

    again = trtforge.convert(m.model, backend="onnx_trt", precision="int8", target="sm89", cache=False,
                             inputs=MODEL4_BATCH, calibration=Calibration(cache=cache_file))
    assert any("calibration skipped" in note for note in again.metadata["notes"])
    assert _dequantized_convs(again) == (quantized, floating)
    assert again.extras["artifacts"]["onnx"] == engine.extras["artifacts"]["onnx"]


def test_depthwise_map_follows_clip_to_the_pointwise_conv() -> None:
    """Grouped Conv -> Clip -> Conv: the reader TensorRT 8.x needs in float with a float
    depthwise convolution (TrtFacts.quantizes_float_depthwise_output)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    from trtforge_onnx_trt.precision import depthwise_map

    w = lambda *shape: numpy_helper.from_array(np.ones(shape, np.float32), f"w{len(shape)}{shape[0]}{shape[1]}")
    weights = [w(8, 3, 3, 3), w(8, 1, 3, 3), w(16, 8, 1, 1)]
    nodes = [
        helper.make_node("Conv", ["x", weights[0].name], ["a"], name="stem", pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["a", weights[1].name], ["b"], name="dw", group=8, pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["b"], ["c"], name="relu6"),
        helper.make_node("Conv", ["c", weights[2].name], ["d"], name="pw"),
        helper.make_node("GlobalAveragePool", ["d"], ["y"], name="pool"),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], weights)
    assert depthwise_map(helper.make_model(graph)) == {"dw": ["pw"]}
