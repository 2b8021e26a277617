"""Concat, Pack, Squeeze, Reshape, Transpose, Pad, StridedSlice, Gather, Cast."""
from __future__ import annotations

import numpy as np

from trtforge_uff.tf2uff.context import TF_DTYPES, TfContext
from trtforge_uff.tf2uff.registry import tf_op


def _const_at(position: int, what: str):
    def check(ctx: TfContext) -> bool | str:
        inputs = ctx.data_inputs()
        index = position if position >= 0 else len(inputs) + position
        return ctx.const(inputs[index]) is not None or f"its {what} must be a constant"
    return check


def _concat_check(ctx: TfContext) -> bool | str:
    return "axis" in ctx.node.attr or _const_at(-1, "axis")(ctx)


@tf_op("ConcatV2", check=_concat_check)
def concat(ctx: TfContext) -> str:
    inputs = ctx.data_inputs()
    if "axis" in ctx.node.attr:  # graphsurgeon's create_node("...", op="ConcatV2", axis=2)
        return ctx.builder.concat(ctx.name, [ctx.input(i) for i in range(len(inputs))], int(ctx.attr("axis")))
    axis = int(ctx.const_input(len(inputs) - 1, "axis"))
    return ctx.builder.concat(ctx.name, [ctx.input(i) for i in range(len(inputs) - 1)], axis)


@tf_op("Pack")
def pack(ctx: TfContext) -> str:
    return ctx.builder.stack(ctx.name, [ctx.input(i) for i in range(len(ctx.data_inputs()))],
                             int(ctx.attr("axis", 0)))


@tf_op("Squeeze")
def squeeze(ctx: TfContext) -> str:
    return ctx.builder.squeeze(ctx.name, ctx.input(0), ctx.attr("squeeze_dims", []) or [])


@tf_op("Reshape", check=_const_at(1, "shape"))
def reshape(ctx: TfContext) -> str:
    shape = ctx.const_input(1, "shape").astype(np.int32)
    return ctx.builder.reshape(ctx.name, ctx.input(0), ctx.constant(shape, "shape"))


@tf_op("Transpose", check=_const_at(1, "perm"))
def transpose(ctx: TfContext) -> str:
    perm = ctx.const_input(1, "perm").astype(np.int32)
    return ctx.builder.transpose(ctx.name, ctx.input(0), ctx.constant(perm, "perm"))


def _pad_check(ctx: TfContext) -> bool | str:
    if ctx.const(ctx.data_inputs()[1]) is None:
        return "its paddings must be a constant"
    if ctx.node.op == "PadV2":
        value = ctx.const(ctx.data_inputs()[2])
        if value is None or float(value) != 0.0:
            return "only a constant pad value of 0 is supported"
    return True


@tf_op("Pad", "PadV2", check=_pad_check)
def pad(ctx: TfContext) -> str:
    pads = ctx.const_input(1, "paddings").astype(np.int32)
    return ctx.builder.pad(ctx.name, ctx.input(0), ctx.constant(pads, "paddings"))


def _slice_check(ctx: TfContext) -> bool | str:
    computed = [w for i, w in enumerate(("begin", "end", "strides"), start=1)
                if ctx.const(ctx.data_inputs()[i]) is None]
    if computed:
        return f"its {', '.join(computed)} must be constants"
    if ctx.attr("ellipsis_mask", 0) or ctx.attr("new_axis_mask", 0):
        return "ellipsis_mask / new_axis_mask are not supported"
    return True


@tf_op("StridedSlice", check=_slice_check)
def strided_slice(ctx: TfContext) -> str:
    parts = [ctx.constant(ctx.const_input(i, w).astype(np.int32), w)
             for i, w in ((1, "begin"), (2, "end"), (3, "strides"))]
    return ctx.builder.strided_slice(
        ctx.name, ctx.input(0), *parts, begin_mask=ctx.attr("begin_mask", 0), end_mask=ctx.attr("end_mask", 0),
        shrink_axis_mask=ctx.attr("shrink_axis_mask", 0))


@tf_op("GatherV2", "Gather", check=lambda ctx: ctx.node.op == "Gather" or _const_at(2, "axis")(ctx))
def gather(ctx: TfContext) -> str:
    axis = int(ctx.const_input(2, "axis")) if ctx.node.op == "GatherV2" else 0
    if ctx.attr("batch_dims", 0):
        raise ctx.error("batch_dims is not supported")
    return ctx.builder.gather(ctx.name, ctx.input(0), ctx.input(1), axis)


def _cast_check(ctx: TfContext) -> bool | str:
    src, dst = TF_DTYPES.get(ctx.attr("SrcT")), TF_DTYPES.get(ctx.attr("DstT"))
    source, _ = ctx.resolve(ctx.data_inputs()[0])
    if source.name in ctx.retyped and dst == "float32":
        return True  # the uint8 input is already float32 in UFF
    if ctx.const(ctx.data_inputs()[0]) is not None and dst is not None:
        return True
    return src == dst or (f"a cast of a computed tensor from {src or ctx.attr('SrcT')} to "
                          f"{dst or ctx.attr('DstT')}: UFF has no Cast op")


@tf_op("Cast", check=_cast_check)
def cast(ctx: TfContext) -> str:
    value = ctx.const(ctx.data_inputs()[0])
    if value is not None:  # folded: UFF holds the cast constant
        return ctx.builder.const(ctx.name, value.astype(np.dtype(TF_DTYPES[ctx.attr("DstT")])))
    return ctx.input(0)  # same dtype: the cast is an alias
