"""Convolutions, pooling, batch norm, bias, softmax, matmul."""

from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_uff.tf2uff.context import TfContext
from trtforge_uff.tf2uff.registry import tf_op

LAYOUTS = {"NHWC": "N+C", "NCHW": "NC+", "NDHWC": "N+C", "NCDHW": "NC+", "NWC": "N+C", "NCW": "NC+"}


def spatial(values: list[int], data_format: str) -> list[int]:
    return list(values[2:]) if data_format.startswith("NC") else list(values[1:-1])


def padding_of(ctx: TfContext) -> Any:
    padding = ctx.attr("padding", "VALID")
    if padding == "EXPLICIT":
        pairs = np.asarray(ctx.attr("explicit_paddings")).reshape(-1, 2)
        pairs = spatial(list(pairs), ctx.data_format())
        return [int(p[0]) for p in pairs] + [int(p[1]) for p in pairs]
    return padding.lower()


def _const_filter(position: int) -> Any:
    def check(ctx: TfContext) -> bool | str:
        return ctx.const(ctx.data_inputs()[position]) is not None or "the filter must be a constant"

    return check


def _conv(ctx: TfContext, data_input: int, weights: np.ndarray, filter_order: str, *,
          dilated: bool = True, **extra: Any) -> str:
    """A UFF Conv node of input ``data_input`` with the constant ``weights`` (strides, padding,
    dilations and layout from the TF node's attributes)."""
    fmt = ctx.data_format()
    filt = ctx.builder.const(ctx.sub("filter"), weights)
    if dilated:
        dilations = ctx.attr("dilations")
        extra["dilation"] = spatial(dilations, fmt) if dilations else None
    return ctx.builder.conv(ctx.name, ctx.input(data_input), filt, strides=spatial(ctx.attr("strides"), fmt),
                            padding=padding_of(ctx), data_order=LAYOUTS[fmt], filter_order=filter_order,
                            **extra)


@tf_op("Conv2D", "Conv3D", check=_const_filter(1))
def conv(ctx: TfContext) -> str:
    return _conv(ctx, 0, ctx.const_input(1, "filter"), "+CK")


@tf_op("DepthwiseConv2dNative", check=_const_filter(1))
def depthwise(ctx: TfContext) -> str:
    # NVIDIA's converter: the TF filter as it is, [H, W, C, M] as "+CK", number_groups = C
    # (output channel c*M + m); importers read it as a depthwise filter (C == groups).
    weights = ctx.const_input(1, "filter")
    return _conv(ctx, 0, weights, "+CK", groups=int(weights.shape[2]))


@tf_op("Conv2DBackpropInput", check=_const_filter(1))
def conv_transpose(ctx: TfContext) -> str:
    sizes = ctx.const_input(0, "output size")
    return _conv(ctx, 2, ctx.const_input(1, "filter"), "+KC",  # filter [H, W, out, in]
                 dilated=False, transpose=True, output_shape=[int(s) for s in sizes])


@tf_op("MaxPool", "AvgPool", "MaxPool3D", "AvgPool3D")
def pool(ctx: TfContext) -> str:
    fmt = ctx.data_format()
    func = "max" if ctx.node.op.startswith("Max") else "avg"
    return ctx.builder.pool(
        ctx.name,
        ctx.input(0),
        func,
        kernel=spatial(ctx.attr("ksize"), fmt),
        strides=spatial(ctx.attr("strides"), fmt),
        padding=padding_of(ctx),
        data_order=LAYOUTS[fmt],
    )


@tf_op("BiasAdd")
def bias_add(ctx: TfContext) -> str:
    bias = ctx.input(1)
    if ctx.data_format().startswith("NC"):
        value = ctx.const_input(1, "bias")
        bias = ctx.constant(value.reshape(-1, 1, 1), "bias")  # [C] against NCHW: [C, 1, 1]
    return ctx.builder.binary(ctx.name, ctx.input(0), bias, "add")


def _bn_check(ctx: TfContext) -> bool | str:
    if ctx.attr("is_training", False):
        return "is_training=True (batch statistics) has no inference form"
    computed = [
        w
        for i, w in enumerate(("scale", "offset", "mean", "variance"), start=1)
        if ctx.const(ctx.data_inputs()[i]) is None
    ]
    return not computed or f"{', '.join(computed)} must be constants"


@tf_op("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", check=_bn_check)
def batchnorm(ctx: TfContext) -> str:
    names = [ctx.input(i) for i in range(5)]
    return ctx.builder.batchnorm(
        ctx.name, *names, epsilon=float(ctx.attr("epsilon", 1e-3)), data_order=LAYOUTS[ctx.data_format()]
    )


@tf_op("Softmax")
def softmax(ctx: TfContext) -> str:
    # TF's Softmax is over the last axis, the channel axis of "N+C": NVIDIA's converter writes
    # axis 0 (channels-first, no batch) with the data format as inputs_orders.
    return ctx.builder.softmax(ctx.name, ctx.input(0), axis=0, data_order="N+C")


@tf_op("MatMul")
def matmul(ctx: TfContext) -> str:
    if ctx.attr("transpose_a", False):
        raise ctx.error("transpose_a=True is not supported")
    weights = ctx.const(ctx.data_inputs()[1])
    if weights is not None:
        if ctx.attr("transpose_b", False):
            weights = weights.T
        return ctx.builder.fully_connected(ctx.name, ctx.input(0), ctx.constant(weights, "weights"))
    if ctx.attr("transpose_b", False):
        raise ctx.error("transpose_b=True with computed weights is not supported")
    return ctx.builder.fully_connected(ctx.name, ctx.input(0), ctx.input(1))
