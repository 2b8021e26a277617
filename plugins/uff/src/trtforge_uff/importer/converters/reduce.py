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
    layer = ctx.network.add_reduce(x, op, axes_mask(axes, rank), bool(node.get("keepdims", False)))
    return ctx.finish(layer)


@converter("Softmax")
def softmax(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x = ctx.tensor(inputs[0], ctx.sub("input"))
    layer = ctx.network.add_softmax(x)
    layer.axes = 1 << normalize_axis(int(node.get("axis", -1)), len(x.shape))
    return ctx.finish(layer)
