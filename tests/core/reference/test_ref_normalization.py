"""Scale (every mode), SoftMax, Normalization (layer and group), LRN, Reduce (every op), TopK."""
from __future__ import annotations

import numpy as np
import pytest
from ref_harness import constant, rng, run, weights

X = rng(9).standard_normal((2, 3, 4, 5)).astype(np.float32)


@pytest.mark.parametrize("mode", ["UNIFORM", "CHANNEL", "ELEMENTWISE"])
def test_scale(mode: str) -> None:
    shape = {"UNIFORM": (1,), "CHANNEL": (3,), "ELEMENTWISE": (3, 4, 5)}[mode]
    r = rng(10)
    shift = r.standard_normal(shape).astype(np.float32)
    scale = r.standard_normal(shape).astype(np.float32)
    power = np.full(shape, 2.0, np.float32)

    def build(net, trt, t):
        k = t["_keep"]
        return net.add_scale_nd(t["x"], getattr(trt.ScaleMode, mode), weights(trt, k, shift),
                                weights(trt, k, scale), weights(trt, k, power), 1).get_output(0)

    (got,) = run({"x": X}, build)
    view = {"UNIFORM": (), "CHANNEL": (1, 3, 1, 1), "ELEMENTWISE": (1, 3, 4, 5)}[mode]
    expected = (X.astype(np.float64) * scale.reshape(view) + shift.reshape(view)) ** 2
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_scale_with_only_a_shift_keeps_scale_and_power_at_one() -> None:
    shift = np.array([1.0, 2.0, 3.0], np.float32)

    def build(net, trt, t):
        return net.add_scale_nd(t["x"], trt.ScaleMode.CHANNEL, weights(trt, t["_keep"], shift),
                                trt.Weights(), trt.Weights(), 1).get_output(0)

    (got,) = run({"x": X}, build)
    np.testing.assert_allclose(got, X + shift.reshape(1, 3, 1, 1), rtol=1e-6)


def test_softmax_over_a_chosen_axis() -> None:
    def build(net, trt, t):
        layer = net.add_softmax(t["x"])
        layer.axes = 1 << 2
        return layer.get_output(0)

    (got,) = run({"x": X}, build)
    e = np.exp(X - X.max(axis=2, keepdims=True))
    np.testing.assert_allclose(got, e / e.sum(axis=2, keepdims=True), rtol=1e-5)


def _normalize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def test_layer_normalization() -> None:
    gamma = rng(11).standard_normal((1, 1, 1, 5)).astype(np.float32)
    beta = rng(12).standard_normal((1, 1, 1, 5)).astype(np.float32)

    def build(net, trt, t):
        k = t["_keep"]
        layer = net.add_normalization_v2(t["x"], constant(net, trt, k, gamma), constant(net, trt, k, beta), 1 << 3)
        layer.epsilon = 1e-3
        return layer.get_output(0)

    (got,) = run({"x": X}, build)
    expected = _normalize(X.astype(np.float64), (3,), 1e-3) * gamma + beta
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_group_normalization() -> None:
    x = rng(13).standard_normal((2, 4, 3, 3)).astype(np.float32)
    gamma = rng(14).standard_normal((1, 4, 1, 1)).astype(np.float32)
    beta = rng(15).standard_normal((1, 4, 1, 1)).astype(np.float32)

    def build(net, trt, t):
        k = t["_keep"]
        layer = net.add_normalization_v2(t["x"], constant(net, trt, k, gamma), constant(net, trt, k, beta),
                                         (1 << 2) | (1 << 3))
        layer.num_groups = 2
        return layer.get_output(0)

    (got,) = run({"x": x}, build)
    grouped = x.astype(np.float64).reshape(2, 2, 2, 3, 3)
    expected = _normalize(grouped, (2, 3, 4), 1e-5).reshape(x.shape) * gamma + beta
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_lrn_across_channels() -> None:
    x = rng(16).standard_normal((1, 6, 2, 2)).astype(np.float32)

    def build(net, trt, t):
        return net.add_lrn(t["x"], 3, 0.5, 0.75, 2.0).get_output(0)

    (got,) = run({"x": x}, build)
    x64 = x.astype(np.float64)
    expected = np.empty_like(x64)
    for c in range(6):
        window = x64[:, max(0, c - 1):min(6, c + 2)]
        expected[:, c] = x64[:, c] / (2.0 + 0.5 / 3 * (window ** 2).sum(axis=1)) ** 0.75
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.parametrize("op,fn", [("SUM", np.sum), ("PROD", np.prod), ("MAX", np.max),
                                   ("MIN", np.min), ("AVG", np.mean)])
@pytest.mark.parametrize("keep", [True, False])
def test_reduce(op, fn, keep) -> None:
    def build(net, trt, t):
        return net.add_reduce(t["x"], getattr(trt.ReduceOperation, op), (1 << 1) | (1 << 3), keep).get_output(0)

    (got,) = run({"x": X}, build)
    np.testing.assert_allclose(got, fn(X.astype(np.float64), axis=(1, 3), keepdims=keep), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["MAX", "MIN"])
def test_topk(op: str) -> None:
    def build(net, trt, t):
        layer = net.add_topk(t["x"], getattr(trt.TopKOperation, op), 3, 1 << 3)
        return [layer.get_output(0), layer.get_output(1)]

    values, indices = run({"x": X}, build)
    order = np.argsort(-X if op == "MAX" else X, axis=3, kind="stable")[..., :3]
    np.testing.assert_array_equal(indices, order)
    np.testing.assert_array_equal(values, np.take_along_axis(X, order, axis=3))
