"""Data movement and description layers: Shuffle, Concatenation, Slice (every mode), Squeeze,
Unsqueeze, Padding, Gather (every mode), Shape, Identity, Cast, Constant, Fill, Assertion."""
from __future__ import annotations

import numpy as np
import pytest
from ref_harness import constant, rng, run, snapshot_of

from trtforge.errors import CheckError
from trtforge.reference import execute

X = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)


def test_shuffle_first_transpose_reshape_second_transpose() -> None:
    def build(net, trt, t):
        layer = net.add_shuffle(t["x"])
        layer.first_transpose = (2, 0, 1)
        layer.reshape_dims = (0, -1)  # 0 copies the (transposed) input's dimension 0
        layer.second_transpose = (1, 0)
        return layer.get_output(0)

    (got,) = run({"x": X}, build)
    np.testing.assert_array_equal(got, X.transpose(2, 0, 1).reshape(4, -1).T)


def test_shuffle_of_a_scalar_constant() -> None:
    """The ONNX parser broadcasts scalars (e.g. TF's Cast/Mul constants) by reshaping 0-d tensors."""

    def build(net, trt, t):
        scalar = constant(net, trt, t["_keep"], np.array(2.5, np.float32))
        layer = net.add_shuffle(scalar)
        layer.reshape_dims = (1, 1, 1)
        return net.add_elementwise(t["x"], layer.get_output(0), trt.ElementWiseOperation.PROD).get_output(0)

    (got,) = run({"x": X}, build)
    np.testing.assert_array_equal(got, X * 2.5)


def test_shuffle_zero_is_a_real_zero_when_placeholder_is_off() -> None:
    x = np.zeros((0, 3), np.float32)

    def build(net, trt, t):
        layer = net.add_shuffle(t["x"])
        layer.zero_is_placeholder = False
        layer.reshape_dims = (3, 0)
        return layer.get_output(0)

    (got,) = run({"x": x}, build)
    assert got.shape == (3, 0)


def test_shuffle_reshape_from_a_shape_tensor_built_from_shape_gather_concat() -> None:
    """The ONNX parser's dynamic flatten: Shape -> Gather -> Concat -> Shuffle input 1."""

    def build(net, trt, t):
        shape = net.add_shape(t["x"]).get_output(0)
        first = net.add_gather(shape, constant(net, trt, t["_keep"], np.array([0], np.int64)), 0).get_output(0)
        rest = constant(net, trt, t["_keep"], np.array([-1], np.int64))
        dims = net.add_concatenation([first, rest]).get_output(0)
        layer = net.add_shuffle(t["x"])
        layer.set_input(1, dims)
        return [layer.get_output(0), shape]

    flat, shape = run({"x": X}, build)
    np.testing.assert_array_equal(flat, X.reshape(2, -1))
    np.testing.assert_array_equal(shape, [2, 3, 4])
    assert shape.dtype == np.int64


def test_concatenation_on_a_middle_axis() -> None:
    y = -np.ones((2, 1, 4), np.float32)

    def build(net, trt, t):
        layer = net.add_concatenation([t["x"], t["y"]])
        layer.axis = 1
        return layer.get_output(0)

    (got,) = run({"x": X, "y": y}, build)
    np.testing.assert_array_equal(got, np.concatenate([X, y], axis=1))


def _slice_reference(x, start, size, stride, mode, fill=0.0):
    index = [np.array([s + i * st for i in range(n)]) for s, n, st in zip(start, size, stride)]
    out = np.empty(size, x.dtype)
    for pos in np.ndindex(*size):
        src, inside = [], True
        for axis, i in enumerate(pos):
            raw, n = int(index[axis][i]), x.shape[axis]
            if mode == "WRAP":
                raw %= n
            elif mode == "CLAMP":
                raw = min(max(raw, 0), n - 1)
            elif mode == "REFLECT":
                period = 2 * (n - 1)
                raw %= period
                raw = period - raw if raw >= n else raw
            elif mode == "FILL" and not 0 <= raw < n:
                inside = False
            src.append(raw)
        out[pos] = x[tuple(src)] if inside else fill
    return out


@pytest.mark.parametrize("mode,start,size,stride", [
    ("STRICT_BOUNDS", (0, 1, 3), (2, 2, 2), (1, 1, -2)),
    ("WRAP", (1, -2, 2), (2, 5, 3), (1, 1, 1)),
    ("CLAMP", (0, -2, 1), (1, 6, 4), (1, 1, 2)),
    ("FILL", (0, -1, 2), (2, 5, 4), (1, 1, 1)),
    ("REFLECT", (0, -3, -2), (1, 8, 9), (1, 1, 1)),
])
def test_slice_modes(mode, start, size, stride) -> None:
    def build(net, trt, t):
        layer = net.add_slice(t["x"], start, size, stride)
        layer.mode = getattr(trt.SampleMode, mode)
        if mode == "FILL":
            layer.set_input(4, constant(net, trt, t["_keep"], np.array(7.5, np.float32)))
        return layer.get_output(0)

    (got,) = run({"x": X}, build)
    np.testing.assert_array_equal(got, _slice_reference(X, start, size, stride, mode, fill=7.5))


def test_slice_with_axes_and_dynamic_start() -> None:
    def build(net, trt, t):
        layer = net.add_slice(t["x"], (0,), (2,), (1,))
        layer.set_input(1, constant(net, trt, t["_keep"], np.array([1], np.int64)))
        layer.set_input(5, constant(net, trt, t["_keep"], np.array([2], np.int64)))
        return layer.get_output(0)

    (got,) = run({"x": X}, build)
    np.testing.assert_array_equal(got, X[:, :, 1:3])


def test_squeeze_and_unsqueeze_with_negative_axes() -> None:
    x = np.arange(6, dtype=np.float32).reshape(1, 3, 1, 2)

    def build(net, trt, t):
        squeezed = net.add_squeeze(t["x"], constant(net, trt, t["_keep"], np.array([0, -2], np.int64)))
        back = net.add_unsqueeze(squeezed.get_output(0), constant(net, trt, t["_keep"], np.array([-1, 0], np.int64)))
        return [squeezed.get_output(0), back.get_output(0)]

    squeezed, back = run({"x": x}, build)
    assert squeezed.shape == (3, 2) and back.shape == (1, 3, 2, 1)
    np.testing.assert_array_equal(back.ravel(), x.ravel())


def test_padding_pads_and_crops_the_innermost_dimensions() -> None:
    x = rng(5).standard_normal((1, 2, 3, 4)).astype(np.float32)

    def build(net, trt, t):
        return net.add_padding_nd(t["x"], (1, -1), (2, 1)).get_output(0)

    (got,) = run({"x": x}, build)
    expected = np.pad(x, [(0, 0), (0, 0), (1, 2), (0, 1)])[:, :, :, 1:]
    np.testing.assert_array_equal(got, expected)


def test_gather_default_with_matrix_indices() -> None:
    idx = np.array([[2, 0], [1, 1]], np.int32)

    def build(net, trt, t):
        layer = net.add_gather_v2(t["x"], t["i"], trt.GatherMode.DEFAULT)
        layer.axis = 1
        return layer.get_output(0)

    (got,) = run({"x": X, "i": idx}, build)
    np.testing.assert_array_equal(got, np.take(X, idx, axis=1))


def test_gather_default_with_an_elementwise_batch_dimension() -> None:
    idx = np.array([[3, 0], [1, 2]], np.int32)

    def build(net, trt, t):
        layer = net.add_gather_v2(t["x"], t["i"], trt.GatherMode.DEFAULT)
        layer.axis = 2
        layer.num_elementwise_dims = 1
        return layer.get_output(0)

    (got,) = run({"x": X, "i": idx}, build)
    expected = np.stack([np.take(X[b], idx[b], axis=1) for b in range(2)])
    np.testing.assert_array_equal(got, expected)


def test_gather_element_mode() -> None:
    idx = rng(6).integers(0, 3, (2, 3, 4)).astype(np.int32)

    def build(net, trt, t):
        layer = net.add_gather_v2(t["x"], t["i"], trt.GatherMode.ELEMENT)
        layer.axis = 1
        return layer.get_output(0)

    (got,) = run({"x": X, "i": idx}, build)
    np.testing.assert_array_equal(got, np.take_along_axis(X, idx, axis=1))


def test_gather_nd_mode() -> None:
    idx = np.array([[0, 2], [1, 0], [1, 1]], np.int32)

    def build(net, trt, t):
        return net.add_gather_v2(t["x"], t["i"], trt.GatherMode.ND).get_output(0)

    (got,) = run({"x": X, "i": idx}, build)
    np.testing.assert_array_equal(got, np.stack([X[a, b] for a, b in idx]))


def test_identity_cast_and_constant() -> None:
    x = np.array([[-1.7, 0.49, 2.5, 300.0]], np.float32)
    table = np.arange(4, dtype=np.int32).reshape(1, 4)

    def build(net, trt, t):
        ident = net.add_identity(t["x"]).get_output(0)
        half = net.add_cast(ident, trt.float16).get_output(0)
        as_int = net.add_cast(t["x"], trt.int32).get_output(0)
        return [half, as_int, constant(net, trt, t["_keep"], table)]

    half, as_int, const = run({"x": x}, build)
    assert half.dtype == np.float16
    np.testing.assert_array_equal(half, x.astype(np.float16))
    np.testing.assert_array_equal(as_int, np.trunc(x).astype(np.int32))
    np.testing.assert_array_equal(const, table)


def test_fill_linspace() -> None:
    def build(net, trt, t):
        layer = net.add_fill((2, 3), trt.FillOperation.LINSPACE, trt.float32)
        layer.set_input(1, constant(net, trt, t["_keep"], np.array(1.5, np.float32)))
        layer.set_input(2, constant(net, trt, t["_keep"], np.array([10.0, 0.5], np.float32)))
        return layer.get_output(0)

    (got,) = run({"x": X}, build)
    expected = 1.5 + 10.0 * np.arange(2)[:, None] + 0.5 * np.arange(3)[None, :]
    np.testing.assert_allclose(got, expected)


def test_fill_random_is_refused_by_name() -> None:
    def build(net, trt, t):
        layer = net.add_fill((2, 3), trt.FillOperation.RANDOM_UNIFORM, trt.float32)
        return layer.get_output(0)

    snap = snapshot_of({"x": X}, build)
    with pytest.raises(CheckError, match="FILL.*random"):
        execute(snap, {"x": X})


def test_assertion_passes_silently_and_fails_with_its_message() -> None:
    def build(net, trt, t):
        ok = net.add_elementwise(t["x"], t["x"], trt.ElementWiseOperation.EQUAL).get_output(0)
        net.add_assertion(ok, "x must equal itself")
        positive = net.add_elementwise(t["x"], constant(net, trt, t["_keep"], np.zeros((1, 1, 1), np.float32)),
                                       trt.ElementWiseOperation.GREATER).get_output(0)
        net.add_assertion(positive, "x must be positive")
        return net.add_identity(t["x"]).get_output(0)

    (got,) = run({"x": X + 1}, build)
    np.testing.assert_array_equal(got, X + 1)
    snap = snapshot_of({"x": X}, build)
    with pytest.raises(CheckError, match="x must be positive"):
        execute(snap, {"x": X})


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_cumulative_sum_matches_onnx_cumsum(exclusive: bool, reverse: bool, dtype: str) -> None:
    """CUMULATIVE (TensorRT's ONNX CumSum) with the four exclusive/reverse combinations, on a
    middle axis, against numpy's definition of CumSum."""
    x = (rng(5).standard_normal((2, 4, 3)) * 4).astype(dtype)

    def build(net, trt, t):
        axis = constant(net, trt, t["_keep"], np.array(1, np.int32))
        layer = net.add_cumulative(t["x"], axis, trt.CumulativeOperation.SUM, exclusive, reverse)
        return layer.get_output(0)

    (got,) = run({"x": x}, build)
    y = np.flip(x, 1) if reverse else x
    want = np.cumsum(y, axis=1, dtype=x.dtype)
    if exclusive:
        want = np.concatenate([np.zeros_like(want[:, :1]), want[:, :-1]], axis=1)
    want = np.flip(want, 1) if reverse else want
    assert got.dtype == x.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-5)
