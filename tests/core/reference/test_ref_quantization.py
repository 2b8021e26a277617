"""Quantize/Dequantize exactly as TensorRT defines them, and reduced-precision rounding.

Quantize: q = clamp(round_half_to_even(x / scale), -128, 127); Dequantize: q * scale;
per-tensor (scalar scale) or per-channel (1-D scale along ``axis``)."""
from __future__ import annotations

import numpy as np
import pytest
from ref_harness import constant, run


def quantize_reference(x, scale, axis=None):
    if axis is not None:
        view = [1] * x.ndim
        view[axis] = -1
        scale = scale.reshape(view)
    return np.clip(np.rint(x.astype(np.float64) / scale), -128, 127).astype(np.int8)  # rint: half to even


def test_per_tensor_quantize_rounds_half_to_even_and_saturates() -> None:
    x = np.array([[0.5, 1.5, 2.5, -0.5, -2.5, 1.0e3, -1.0e3, 0.49]], np.float32)
    scale = np.array(1.0, np.float32)

    def build(net, trt, t):
        k = t["_keep"]
        q = net.add_quantize(t["x"], constant(net, trt, k, scale), trt.int8).get_output(0)
        dq = net.add_dequantize(q, constant(net, trt, k, scale), trt.float32).get_output(0)
        return [q, dq]

    q, dq = run({"x": x}, build)
    assert q.dtype == np.int8
    np.testing.assert_array_equal(q, [[0, 2, 2, 0, -2, 127, -128, 0]])
    np.testing.assert_array_equal(dq, q.astype(np.float32))


@pytest.mark.parametrize("axis", [0, 1])
def test_per_channel_quantize_dequantize(axis: int) -> None:
    x = np.random.default_rng(17).standard_normal((3, 4, 5)).astype(np.float32) * 3
    scale = np.linspace(0.01, 0.05, x.shape[axis]).astype(np.float32)

    def build(net, trt, t):
        k = t["_keep"]
        s = constant(net, trt, k, scale)
        ql = net.add_quantize(t["x"], s, trt.int8)
        ql.axis = axis
        dl = net.add_dequantize(ql.get_output(0), s, trt.float32)
        dl.axis = axis
        return [ql.get_output(0), dl.get_output(0)]

    q, dq = run({"x": x}, build)
    expected = quantize_reference(x, scale, axis)
    np.testing.assert_array_equal(q, expected)
    view = [1] * 3
    view[axis] = -1
    np.testing.assert_allclose(dq, expected * scale.reshape(view), rtol=1e-6)


def test_fp16_outputs_are_rounded_after_every_layer() -> None:
    """x + tiny in fp16: the sum rounds back to x; in fp32 it would not."""
    x = np.array([[1.0, 2048.0]], np.float16)
    tiny = np.array([[1e-4, 0.5]], np.float16)

    def build(net, trt, t):
        total = net.add_elementwise(t["x"], t["t"], trt.ElementWiseOperation.SUM).get_output(0)
        return net.add_elementwise(total, t["t"], trt.ElementWiseOperation.SUM).get_output(0)

    (got,) = run({"x": x, "t": tiny}, build)
    assert got.dtype == np.float16
    # Each SUM rounds to fp16: 1 + 1e-4 -> 1 (twice); 2048 + 0.5 -> 2048 (ties to even), twice.
    np.testing.assert_array_equal(got, [[1.0, 2048.0]])


def test_bf16_cast_rounds_to_bfloat16() -> None:
    x = np.array([[1.0 + 2 ** -9, 3.14159]], np.float32)

    def build(net, trt, t):
        half = net.add_cast(t["x"], trt.bfloat16).get_output(0)
        return net.add_cast(half, trt.float32).get_output(0)

    (got,) = run({"x": x}, build)
    bits = x.view(np.uint32)
    # Round to nearest even on the upper 16 bits (bfloat16 keeps 8 exponent + 7 mantissa bits).
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)
    np.testing.assert_array_equal(got, rounded)


def test_quantize_typed_float_as_tensorrt_8_records_it_is_int8() -> None:
    """TensorRT 8.6 (H200, 2026-12-02) records every Quantize output as float32: Q/DQ are
    int8-only there, so the executor quantizes to int8 instead of refusing the layer."""
    from ref_harness import snapshot_of

    from trtforge.reference import execute

    x = np.array([[0.5, 1.5, 2.5, -0.5, -2.5, 1.0e3, -1.0e3, 0.49]], np.float32)
    scale = np.array(0.5, np.float32)

    def build(net, trt, t):
        k = t["_keep"]
        q = net.add_quantize(t["x"], constant(net, trt, k, scale), trt.int8).get_output(0)
        return net.add_dequantize(q, constant(net, trt, k, scale), trt.float32).get_output(0)

    snap = snapshot_of({"x": x}, build)
    quantize = next(layer for layer in snap.graph["layers"] if layer["type"] == "QUANTIZE")
    quantize["outputs"][0]["dtype"] = "float32"  # as 8.6's network reports it
    got = execute(snap, {"x": x})["out0"]
    np.testing.assert_array_equal(got, quantize_reference(x, scale) * scale)
