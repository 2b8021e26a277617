"""Pool (max, avg): channels-first pooling between layout transposes."""
from __future__ import annotations

from typing import Any

from trtforge_uff.importer.converters.conv import _back, _identity, apply_padding
from trtforge_uff.importer.network import ImportContext
from trtforge_uff.importer.registry import converter


@converter("Pool")
def pool(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x = ctx.tensor(inputs[0], ctx.sub("input"))
    orders = node.get("inputs_orders")
    order = orders[0] if isinstance(orders, list) else orders
    kernel = tuple(int(k) for k in node.get("kernel"))
    spatial = len(kernel)
    kind = ctx.trt.PoolingType.MAX if node.get("func") == "max" else ctx.trt.PoolingType.AVERAGE
    x = ctx.to_layout(x, order, canonical=True)
    layer = ctx.network.add_pooling_nd(x, kind, kernel)
    layer.stride_nd = tuple(int(s) for s in node.get("strides"))
    apply_padding(ctx, layer, node, spatial)
    if kind == ctx.trt.PoolingType.AVERAGE:
        layer.average_count_excludes_padding = True  # TensorFlow averages over the window inside
    if order is None or _identity(order, spatial):
        return ctx.finish(layer)
    return _back(ctx, ctx.finish(layer, ctx.sub("pool")), order)
