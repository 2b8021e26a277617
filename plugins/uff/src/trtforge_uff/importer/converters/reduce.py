"""Reduce (sum, mean, max, min, prod) and Softmax."""

from __future__ import annotations

from typing import Any

from trtforge_uff.importer.network import ImportContext, axes_mask, normalize_axis
from trtforge_uff.importer.registry import converter

REDUCE = {"sum": "SUM", "mean": "AVG", "max": "MAX", "min": "MIN", "prod": "PROD"}


@converter("Reduce")
def reduce(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x = ctx.tensor(inputs[0], ctx.sub("input"))
    rank = len(x.shape)
    axes = node.get("axes") or list(range(rank))
    op = getattr(ctx.trt.ReduceOperation, REDUCE[node.get("func")])
    dtype = ctx.dtype_name(x)
    wide = ctx.cast(x, "float32", ctx.sub("to_float32")) if dtype == "float16" else x  # sums overflow fp16
    layer = ctx.network.add_reduce(wide, op, axes_mask(axes, rank), bool(node.get("keepdims", False)))
    if wide is x:
        return ctx.finish(layer)
    return ctx.cast(ctx.finish(layer, ctx.sub("float32")), dtype, node.id)


@converter("Softmax")
def softmax(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x = ctx.tensor(inputs[0], ctx.sub("input"))
    dtype = ctx.dtype_name(x)
    wide = ctx.cast(x, "float32", ctx.sub("to_float32")) if dtype == "float16" else x
    layer = ctx.network.add_softmax(wide)
    layer.axes = 1 << softmax_axis(node, len(x.shape))
    if wide is x:
        return ctx.finish(layer)
    return ctx.cast(ctx.finish(layer, ctx.sub("float32")), dtype, node.id)


def softmax_axis(node: Any, rank: int) -> int:
    """The storage axis of a Softmax. With ``inputs_orders`` (NVIDIA's converter: axis 0 and
    "N+C" for TF's last-axis softmax) ``axis`` counts in the channels-first layout without the
    batch, as TensorRT's UffParser reads it; without, it is an axis of the tensor as stored."""
    orders = node.get("inputs_orders")
    order = orders[0] if isinstance(orders, list) else orders
    axis = int(node.get("axis", -1))
    if order is None:
        return normalize_axis(axis, rank)
    canonical = normalize_axis(axis, rank - 1) + 1
    return order.for_rank(rank).index(canonical)
