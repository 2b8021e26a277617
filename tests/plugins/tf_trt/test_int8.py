"""INT8: ranges measured by running the frozen graph in TensorFlow, explicit Q/DQ, the shared
calibration cache, accuracy control on a TensorFlow fake-quant simulation; check passes."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import trtforge
from trtforge_zoo import models as zoo
from trtforge.int8.calibration import Calibration
from trtforge.verify.checking import check

from tftrt_harness import layer_types


def _calibration(m: zoo.ZooModel, count: int = 8) -> np.ndarray:
    shape = (count, *m.input_shape[1:])
    rng = np.random.default_rng(7)
    if m.inputs[0].dtype == "uint8":
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.standard_normal(shape).astype(np.float32)


def _int8(m: zoo.ZooModel, calibration: object, **options: object) -> object:
    return trtforge.convert(m.model, backend="tf_trt", precision="int8", target="sm89", cache=False,
                            calibration=calibration, options=dict(options))


@pytest.mark.parametrize("name", ["model1", pytest.param("model2", marks=pytest.mark.slow), "model3"])
def test_seed_model_int8_converts_fully_and_passes_check(name: str,
                                                         seed_model: Callable[[str], zoo.ZooModel]) -> None:
    m = seed_model(name)
    engine = _int8(m, _calibration(m), int8_min_cosine=0)
    assert engine.extras["artifacts"]["tf_trt_coverage"]["complete"]
    types = layer_types(engine)
    assert types.count("QUANTIZE") >= 4 and "DEQUANTIZE" in types
    assert any("calibrated" in n for n in engine.metadata["notes"])
    report = check(m.model, engine, inputs=[m.example])
    assert report.passed, [o.to_dict() for o in report.outputs]


def test_calibration_cache_is_reused(seed_model: Callable[[str], zoo.ZooModel], tmp_path: Path) -> None:
    m = seed_model("model1")
    cache = tmp_path / "calib.json"
    _int8(m, Calibration(data=_calibration(m), cache=cache), int8_min_cosine=0)
    assert cache.is_file()
    again = _int8(m, Calibration(cache=cache), int8_min_cosine=0)
    assert any("calibration skipped" in n for n in again.metadata["notes"])
    assert check(m.model, again, inputs=[m.example]).passed


def test_accuracy_control_keeps_sensitive_ops_in_float(seed_model: Callable[[str], zoo.ZooModel]) -> None:
    m = seed_model("model1")
    engine = _int8(m, _calibration(m), int8_min_cosine=0.999999)
    notes = " ".join(engine.metadata["notes"])
    assert "int8 accuracy control" in notes
    kept = next(n for n in engine.metadata["notes"] if "quantizable op(s)" in n)
    assert not kept.endswith(" 0 kept in float")
    assert check(m.model, engine, inputs=[m.example]).passed


def test_depthwise_map_follows_bias_and_relu6_to_the_pointwise_conv() -> None:
    """DepthwiseConv2dNative -> BiasAdd -> Relu6 -> Conv2D: the reader TensorRT 8.x needs in
    float with a float depthwise convolution (TrtFacts.quantizes_float_depthwise_output)."""
    import tensorflow as tf

    from tftrt_harness import graph_of, seeded
    from trtforge_tf_trt.graph import TfGraph
    from trtforge_tf_trt.quant import depthwise_map, quantized_nodes

    dw, pw = tf.constant(seeded(3, 3, 4, 1, seed=1)), tf.constant(seeded(1, 1, 4, 8, seed=2))
    bias = tf.constant(seeded(4, seed=3))

    def net(x: tf.Tensor) -> tf.Tensor:
        y = tf.nn.relu6(tf.nn.bias_add(tf.nn.depthwise_conv2d(x, dw, [1, 1, 1, 1], "SAME"), bias))
        return tf.reduce_mean(tf.nn.conv2d(y, pw, 1, "SAME"), axis=[1, 2])

    graph_def = graph_of(net, seeded(1, 8, 8, 4))
    graph = TfGraph(graph_def, ["x0:0"], [graph_def.node[-1].name + ":0"], {"x0:0": (1, 8, 8, 4)})
    nodes = quantized_nodes(graph)
    found = depthwise_map(graph, nodes)
    (depthwise,) = [n.name for n in nodes if n.op == "DepthwiseConv2dNative"]
    (pointwise,) = [n.name for n in nodes if n.op == "Conv2D"]
    assert found == {depthwise: [pointwise]}
