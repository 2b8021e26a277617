"""BatchNorm (inference): folded in numpy into one scale and one shift along the channel axis."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_uff.importer.converters.elementwise import elementwise
from trtforge_uff.importer.network import ImportContext
from trtforge_uff.importer.registry import converter


def _constant_parameters(node: Any, graph: Any) -> bool | str:
    nodes = graph.by_id()
    names = ("gamma", "beta", "mean", "variance")
    computed = [n for n, i in zip(names, node.inputs[1:]) if getattr(nodes.get(i), "op", None) != "Const"]
    return not computed or f"{', '.join(computed)} must be Const nodes"


@converter("BatchNorm", validator=_constant_parameters)
def batchnorm(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x = ctx.tensor(inputs[0], ctx.sub("input"))
    gamma, beta, mean, variance = (np.asarray(v, dtype=np.float32).reshape(-1) for v in inputs[1:])
    rank = len(x.shape)
    orders = node.get("inputs_orders")
    order = orders[0] if isinstance(orders, list) else orders
    channel_axis = order.for_rank(rank).index(1) if order is not None else 1
    scale = gamma / np.sqrt(variance + np.float32(node.get("epsilon")))
    shift = beta - mean * scale
    shape = [1] * rank
    shape[channel_axis] = scale.size
    scaled = elementwise(ctx, x, scale.reshape(shape).astype(np.float32), "PROD", ctx.sub("scale"))
    return elementwise(ctx, scaled, shift.reshape(shape).astype(np.float32), "SUM")
