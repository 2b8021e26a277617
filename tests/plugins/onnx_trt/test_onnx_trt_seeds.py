"""The four seed models convert through onnx_trt at fp32, fp16 and int8 to sm89 plans.

Numerics are checked on the prepared ONNX model the route parsed (``artifacts["onnx"]``) with
onnxruntime, against the source framework.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from onnx import TensorProto

import trtforge
from trtforge_zoo import models as zoo

from .conftest import max_rel_error, run_onnx

SEEDS = [
    "model1",
    pytest.param("model2", marks=pytest.mark.slow),  # tf2onnx takes ~20-40 s on Keras ResNet50
    "model3",
    "model4",
]


def _calibration(m: zoo.ZooModel, count: int = 8) -> np.ndarray:
    shape = (count, *m.input_shape[1:])
    rng = np.random.default_rng(7)
    if m.inputs[0].dtype == "uint8":
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.standard_normal(shape).astype(np.float32)


def _inputs(m: zoo.ZooModel) -> list[Any] | None:
    if m.name != "model4":
        return None  # TF models: the route fixes their dynamic batch to 1
    c, h, w = m.input_shape[1:]
    return [trtforge.InputSpec("x", min=(1, c, h, w), opt=(2, c, h, w), max=(8, c, h, w))]


def _graph(data: bytes) -> Any:
    import onnx

    return onnx.load_from_string(data).graph


@pytest.mark.parametrize("name", SEEDS)
def test_seed_model_converts_at_fp32_fp16_int8(name: str, seed_model: Callable[[str], zoo.ZooModel]) -> None:
    m = seed_model(name)
    plans = {}
    for precision in ("fp32", "fp16", "int8"):
        engine = trtforge.convert(
            m.model, backend="onnx_trt", precision=precision, target="sm89", cache=False,
            inputs=_inputs(m), calibration=_calibration(m) if precision == "int8" else None,
            # model4's accuracy control (~40 s) is tested in test_onnx_trt_int8_accuracy.py
            options={"int8_min_cosine": 0} if name == "model4" else {})
        assert engine.route == "onnx_trt" and engine.target == "sm89" and engine.precision == precision
        plans[precision] = len(engine.plan)
        prepared = engine.extras["artifacts"]["onnx"]
        graph = _graph(prepared)
        input_name = graph.input[0].name
        assert graph.input[0].type.tensor_type.elem_type in (TensorProto.FLOAT, TensorProto.UINT8)
        if precision == "fp32":
            x = m.example if name != "model4" else np.concatenate([m.example, m.example * 0.5])
            got = run_onnx(prepared, {input_name: x})[0]
            assert max_rel_error(got, m.reference(x)) <= 1e-4
        elif precision == "fp16":
            assert any(i.data_type == TensorProto.FLOAT16 for i in graph.initializer)
            assert graph.output[0].type.tensor_type.elem_type == TensorProto.FLOAT  # io kept FP32
        else:
            ops = [n.op_type for n in graph.node]
            assert ops.count("QuantizeLinear") >= 4 and "DequantizeLinear" in ops
            assert all(i.data_type != TensorProto.INT32 for i in graph.initializer)  # no INT32 bias
            assert any("calibrated" in note for note in engine.metadata["notes"])
    if name == "model4":  # a full ResNet50's plan is mostly weights (small models: kernels)
        assert plans["int8"] < plans["fp16"] < plans["fp32"]
    if name == "model4":
        profile = engine.metadata["profiles"][0]["profiles"][0]
        assert profile["min"][0] == 1 and profile["max"][0] == 8
        assert engine.metadata["inputs"][0]["shape"][0] == -1  # dynamic batch kept


def test_model4_int8_puts_qdq_where_tensorrt_fuses(seed_model: Callable[[str], zoo.ZooModel]) -> None:
    """With accuracy control off (int8_min_cosine=0), every Conv/Gemm reads a dequantized
    activation; every residual Add reads one quantized input and one straight from a
    convolution (so TensorRT fuses the Add into it)."""
    m = seed_model("model4")
    engine = trtforge.convert(m.model, backend="onnx_trt", precision="int8", target="sm89", cache=False,
                              inputs=_inputs(m), calibration=_calibration(m), options={"int8_min_cosine": 0})
    assert any("disabled by int8_min_cosine=0" in note for note in engine.metadata["notes"])
    graph = _graph(engine.extras["artifacts"]["onnx"])
    producer = {o: n for n in graph.node for o in n.output}
    convs = [n for n in graph.node if n.op_type in ("Conv", "Gemm")]
    assert len(convs) == 54
    for node in convs:
        assert producer[node.input[0]].op_type == "DequantizeLinear", node.name
        weight_dq = producer[node.input[1]]
        assert weight_dq.op_type == "DequantizeLinear"
    adds = [n for n in graph.node if n.op_type == "Add"]
    assert len(adds) == 16
    for add in adds:
        kinds = sorted(producer[i].op_type for i in add.input)
        assert kinds == ["Conv", "DequantizeLinear"], (add.name, kinds)
    q_nodes = [n for n in graph.node if n.op_type == "QuantizeLinear"]
    for q in q_nodes:
        zero_point = next(i for i in graph.initializer if i.name == q.input[2])
        assert zero_point.data_type == TensorProto.INT8  # symmetric signed int8
