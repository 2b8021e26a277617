"""Pooling against numpy windows: max, average (padding counted or not), max-average blend."""
from __future__ import annotations

import math

import numpy as np
import pytest
from ref_harness import rng, run


def pool_reference(x, kind, window, stride, pre, post, exclude, round_up=False, blend=0.0):
    n, c, h, w = x.shape
    sizes = [h + pre[0] + post[0], w + pre[1] + post[1]]
    outs = []
    for i in range(2):
        span = sizes[i] - window[i]
        outs.append((math.ceil(span / stride[i]) if round_up else span // stride[i]) + 1)
    out = np.zeros((n, c, outs[0], outs[1]))
    for i in range(outs[0]):
        for j in range(outs[1]):
            r0, c0 = i * stride[0] - pre[0], j * stride[1] - pre[1]
            rows = [r for r in range(r0, r0 + window[0])]
            cols = [q for q in range(c0, c0 + window[1])]
            real_r = [r for r in rows if 0 <= r < h]
            real_c = [q for q in cols if 0 <= q < w]
            patch = x[:, :, real_r][:, :, :, real_c]
            in_padding = [r for r in rows if r < h + post[0]], [q for q in cols if q < w + post[1]]
            maximum = patch.max(axis=(2, 3))  # padding never wins a max
            count = len(real_r) * len(real_c) if exclude else len(in_padding[0]) * len(in_padding[1])
            average = patch.sum(axis=(2, 3)) / count
            out[:, :, i, j] = {"MAX": maximum, "AVERAGE": average,
                               "MAX_AVERAGE_BLEND": blend * maximum + (1 - blend) * average}[kind]
    return out


@pytest.mark.parametrize("kind,window,stride,pre,post,exclude,mode", [
    ("MAX", (3, 3), (2, 2), (1, 1), (1, 1), True, "EXPLICIT_ROUND_DOWN"),
    ("MAX", (3, 3), (2, 2), (0, 0), (0, 0), True, "EXPLICIT_ROUND_UP"),
    ("AVERAGE", (3, 3), (1, 2), (1, 1), (1, 0), True, "EXPLICIT_ROUND_DOWN"),
    ("AVERAGE", (3, 3), (1, 2), (1, 1), (1, 0), False, "EXPLICIT_ROUND_DOWN"),
    ("AVERAGE", (2, 2), (2, 2), (0, 0), (0, 0), True, "EXPLICIT_ROUND_UP"),
    ("MAX_AVERAGE_BLEND", (2, 2), (2, 2), (0, 0), (0, 0), True, "EXPLICIT_ROUND_DOWN"),
])
def test_pooling(kind, window, stride, pre, post, exclude, mode) -> None:
    x = rng(4).standard_normal((2, 3, 7, 8)).astype(np.float32)

    def build(net, trt, t):
        layer = net.add_pooling_nd(t["x"], getattr(trt.PoolingType, kind), window)
        layer.stride_nd, layer.pre_padding, layer.post_padding = stride, pre, post
        layer.average_count_excludes_padding = exclude
        layer.padding_mode = getattr(trt.PaddingMode, mode)
        if kind == "MAX_AVERAGE_BLEND":
            layer.blend_factor = 0.25
        return layer.get_output(0)

    (got,) = run({"x": x}, build)
    expected = pool_reference(x.astype(np.float64), kind, window, stride, pre, post, exclude,
                              round_up=mode == "EXPLICIT_ROUND_UP", blend=0.25)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_same_upper_max_pool_pads_at_the_end() -> None:
    x = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5)

    def build(net, trt, t):
        layer = net.add_pooling_nd(t["x"], trt.PoolingType.MAX, (2, 2))
        layer.stride_nd = (2, 2)
        layer.padding_mode = trt.PaddingMode.SAME_UPPER
        return layer.get_output(0)

    (got,) = run({"x": x}, build)
    # ceil(5/2) = 3 windows; total padding 1, at the end: rows/cols {0,1}, {2,3}, {4}.
    np.testing.assert_array_equal(got[0, 0], [[6, 8, 9], [16, 18, 19], [21, 23, 24]])
