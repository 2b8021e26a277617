"""Convolution and deconvolution against direct numpy loops written from TensorRT's docs:
out = floor((in + pre + post - dilation*(k-1) - 1) / stride) + 1 (ceil for ROUND_UP);
SAME_* pad so that out = ceil(in / stride), the odd element at the end (UPPER) or start."""
from __future__ import annotations

import math

import numpy as np
import pytest
from ref_harness import rng, run, weights


def conv_reference(x, w, b, stride, dilation, pre, post, groups):
    x = np.pad(x, [(0, 0), (0, 0), (pre[0], post[0]), (pre[1], post[1])])
    n, c, h, wd = x.shape
    k, cg, kh, kw = w.shape
    oh = (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, k, oh, ow))
    per_group = k // groups
    for o in range(k):
        g = o // per_group
        for i in range(oh):
            for j in range(ow):
                patch = x[:, g * cg:(g + 1) * cg,
                          i * stride[0]: i * stride[0] + dilation[0] * (kh - 1) + 1: dilation[0],
                          j * stride[1]: j * stride[1] + dilation[1] * (kw - 1) + 1: dilation[1]]
                out[:, o, i, j] = (patch * w[o]).sum(axis=(1, 2, 3)) + b[o]
    return out


def same_padding(size, k, s, d, upper):
    out = math.ceil(size / s)
    total = max(0, (out - 1) * s + d * (k - 1) + 1 - size)
    small, big = total // 2, total - total // 2
    return (small, big) if upper else (big, small)


CASES = [
    # stride, dilation, pre, post, groups, mode
    ((1, 1), (1, 1), (1, 1), (1, 1), 1, "EXPLICIT_ROUND_DOWN"),
    ((2, 2), (1, 1), (0, 1), (2, 0), 1, "EXPLICIT_ROUND_DOWN"),
    ((2, 1), (2, 2), (1, 2), (1, 0), 2, "EXPLICIT_ROUND_DOWN"),
    ((2, 2), (1, 1), (0, 0), (0, 0), 4, "EXPLICIT_ROUND_UP"),
    ((2, 2), (1, 1), (0, 0), (0, 0), 1, "SAME_UPPER"),
    ((3, 2), (1, 2), (0, 0), (0, 0), 2, "SAME_LOWER"),
]


@pytest.mark.parametrize("stride,dilation,pre,post,groups,mode", CASES)
def test_convolution(stride, dilation, pre, post, groups, mode) -> None:
    r = rng(1)
    x = r.standard_normal((2, 4, 9, 8)).astype(np.float32)
    w = r.standard_normal((8, 4 // groups, 3, 3)).astype(np.float32)
    b = r.standard_normal(8).astype(np.float32)

    def build(net, trt, t):
        conv = net.add_convolution_nd(t["x"], 8, (3, 3), weights(trt, t["_keep"], w),
                                      weights(trt, t["_keep"], b))
        conv.stride_nd, conv.dilation_nd = stride, dilation
        conv.pre_padding, conv.post_padding = pre, post
        conv.num_groups = groups
        conv.padding_mode = getattr(trt.PaddingMode, mode)
        return conv.get_output(0)

    (got,) = run({"x": x}, build)
    if mode.startswith("SAME"):
        pads = [same_padding(x.shape[2 + i], 3, stride[i], dilation[i], mode == "SAME_UPPER") for i in range(2)]
        pre, post = (pads[0][0], pads[1][0]), (pads[0][1], pads[1][1])
    elif mode == "EXPLICIT_ROUND_UP":
        extra = []
        for i in range(2):
            size = x.shape[2 + i] + pre[i] + post[i]
            out = math.ceil((size - 3) / stride[i]) + 1
            extra.append((out - 1) * stride[i] + 3 - size)
        post = (post[0] + extra[0], post[1] + extra[1])
    expected = conv_reference(x.astype(np.float64), w, b, stride, dilation, pre, post, groups)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def deconv_reference(x, w, b, stride, pre, post, groups):
    n, c, h, wd = x.shape
    _, kg, kh, kw = w.shape
    k = kg * groups
    full = np.zeros((n, k, (h - 1) * stride[0] + kh, (wd - 1) * stride[1] + kw))
    per_group = c // groups
    for ci in range(c):
        g = ci // per_group
        for i in range(h):
            for j in range(wd):
                full[:, g * kg:(g + 1) * kg, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw] += \
                    x[:, ci, i, j][:, None, None, None] * w[ci][None]
    full += b[None, :, None, None]
    return full[:, :, pre[0]:full.shape[2] - post[0], pre[1]:full.shape[3] - post[1]]


@pytest.mark.parametrize("groups,stride,pre,post", [(1, (2, 2), (0, 0), (0, 0)), (2, (2, 3), (1, 0), (0, 2))])
def test_deconvolution(groups, stride, pre, post) -> None:
    r = rng(2)
    x = r.standard_normal((1, 4, 5, 4)).astype(np.float32)
    w = r.standard_normal((4, 6 // groups, 3, 3)).astype(np.float32)
    b = r.standard_normal(6).astype(np.float32)

    def build(net, trt, t):
        layer = net.add_deconvolution_nd(t["x"], 6, (3, 3), weights(trt, t["_keep"], w),
                                         weights(trt, t["_keep"], b))
        layer.stride_nd, layer.num_groups = stride, groups
        layer.pre_padding, layer.post_padding = pre, post
        return layer.get_output(0)

    (got,) = run({"x": x}, build)
    np.testing.assert_allclose(got, deconv_reference(x.astype(np.float64), w, b, stride, pre, post, groups),
                               rtol=1e-4, atol=1e-4)


def test_convolution_with_kernel_from_a_tensor_and_fp16_output() -> None:
    r = rng(3)
    x = r.standard_normal((1, 2, 5, 5)).astype(np.float16)
    w = r.standard_normal((3, 2, 1, 1)).astype(np.float16)

    def build(net, trt, t):
        kernel = net.add_constant(w.shape, weights(trt, t["_keep"], w)).get_output(0)
        conv = net.add_convolution_nd(t["x"], 3, (1, 1), trt.Weights(trt.float16), trt.Weights(trt.float16))
        conv.set_input(1, kernel)
        return conv.get_output(0)

    (got,) = run({"x": x}, build)
    assert got.dtype == np.float16
    expected = np.einsum("nchw,kc->nkhw", x.astype(np.float64), w[:, :, 0, 0].astype(np.float64))
    np.testing.assert_array_equal(got, expected.astype(np.float16))
