"""Resize against per-axis numpy interpolation from TensorRT's coordinate transformations."""
from __future__ import annotations

import math

import numpy as np
import pytest
from ref_harness import run

X = np.arange(1 * 1 * 3 * 4, dtype=np.float32).reshape(1, 1, 3, 4) ** 1.5


def source_coordinate(out_index, size_in, size_out, transform):
    scale = size_out / size_in
    if transform == "ALIGN_CORNERS":
        return out_index * (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
    if transform == "HALF_PIXEL":
        return (out_index + 0.5) / scale - 0.5
    return out_index / scale


def resize_axis(x, axis, size_out, mode, transform, rounding="FLOOR", cubic=-0.75):
    size_in = x.shape[axis]
    moved = np.moveaxis(x, axis, -1)
    out = np.zeros(moved.shape[:-1] + (size_out,))
    for o in range(size_out):
        c = source_coordinate(o, size_in, size_out, transform)
        if mode == "NEAREST":
            i = {"FLOOR": math.floor(c), "CEIL": math.ceil(c), "HALF_UP": math.floor(c + 0.5),
                 "HALF_DOWN": math.ceil(c - 0.5)}[rounding]
            out[..., o] = moved[..., min(max(i, 0), size_in - 1)]
        elif mode == "LINEAR":
            c = min(max(c, 0.0), size_in - 1)
            lo = int(math.floor(c))
            hi = min(lo + 1, size_in - 1)
            out[..., o] = moved[..., lo] * (1 - (c - lo)) + moved[..., hi] * (c - lo)
        else:
            base = math.floor(c)
            acc = 0.0
            for k in (-1, 0, 1, 2):
                d = abs(c - (base + k))
                w = ((cubic + 2) * d - (cubic + 3)) * d * d + 1 if d <= 1 else \
                    ((cubic * d - 5 * cubic) * d + 8 * cubic) * d - 4 * cubic if d < 2 else 0.0
                acc = acc + w * moved[..., min(max(base + k, 0), size_in - 1)]
            out[..., o] = acc
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("mode,transform,rounding", [
    ("NEAREST", "ASYMMETRIC", "FLOOR"),
    ("NEAREST", "HALF_PIXEL", "HALF_UP"),
    ("NEAREST", "ALIGN_CORNERS", "HALF_DOWN"),
    ("NEAREST", "ASYMMETRIC", "CEIL"),
    ("LINEAR", "HALF_PIXEL", "FLOOR"),
    ("LINEAR", "ALIGN_CORNERS", "FLOOR"),
    ("CUBIC", "HALF_PIXEL", "FLOOR"),
])
def test_resize_to_a_shape(mode, transform, rounding) -> None:
    out_shape = (1, 1, 7, 6)

    def build(net, trt, t):
        layer = net.add_resize(t["x"])
        layer.shape = out_shape
        layer.resize_mode = getattr(trt.InterpolationMode, mode)
        layer.coordinate_transformation = getattr(trt.ResizeCoordinateTransformation, transform)
        layer.nearest_rounding = getattr(trt.ResizeRoundMode, rounding)
        layer.cubic_coeff = -0.75
        return layer.get_output(0)

    (got,) = run({"x": X}, build)
    expected = X.astype(np.float64)
    for axis in (2, 3):
        expected = resize_axis(expected, axis, out_shape[axis], mode, transform, rounding)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


def test_resize_by_scales_nearest_upsample() -> None:
    def build(net, trt, t):
        layer = net.add_resize(t["x"])
        layer.scales = [1.0, 1.0, 2.0, 2.0]
        layer.resize_mode = trt.InterpolationMode.NEAREST
        return layer.get_output(0)

    (got,) = run({"x": X}, build)
    np.testing.assert_array_equal(got, X.repeat(2, axis=2).repeat(2, axis=3))
