"""Conv and ConvTranspose: storage layout -> channels-first, TensorRT (de)convolution, back."""

from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_uff.importer.network import ImportContext
from trtforge_uff.importer.registry import converter


def _orders(node: Any) -> tuple[Any, Any]:
    orders = node.get("inputs_orders")
    orders = orders if isinstance(orders, list) else [orders]
    return orders[0], (orders[1] if len(orders) > 1 else None)


def _constant_filter(node: Any, graph: Any) -> bool | str:
    producer = graph.by_id().get(node.inputs[1])
    if producer is None or producer.op != "Const":
        return "the filter must be a Const node (weights frozen into the graph)"
    return True


def kernel_kcrs(ctx: ImportContext, weights: np.ndarray, order: Any) -> np.ndarray:
    """The filter in canonical (K, C, spatial...) order."""
    if order is None:
        return weights
    storage = order.for_rank(weights.ndim)
    return np.transpose(weights, [storage.index(c) for c in range(weights.ndim)])


def apply_padding(ctx: ImportContext, layer: Any, node: Any, spatial: int) -> None:
    implicit = node.get("implicit_padding")
    if isinstance(implicit, str):
        if implicit == "same":
            layer.padding_mode = ctx.trt.PaddingMode.SAME_UPPER
        elif implicit == "valid":
            layer.padding_nd = (0,) * spatial
        else:
            raise ctx.error(f"implicit_padding {implicit!r} is neither 'same' nor 'valid'")
        return
    padding = [int(p) for p in node.get("padding", [0] * (2 * spatial))]
    if len(padding) == spatial:
        padding = padding + padding
    if len(padding) != 2 * spatial:
        raise ctx.error(
            f"padding {padding} needs {spatial} (symmetric) or {2 * spatial} (pre then post) values"
        )
    layer.pre_padding = tuple(padding[:spatial])
    layer.post_padding = tuple(padding[spatial:])


@converter("Conv", "ConvTranspose", validator=_constant_filter)
def convolution(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x, weights = inputs
    data_order, filter_order = _orders(node)
    kernel = kernel_kcrs(ctx, np.asarray(weights, dtype=np.float32), filter_order)
    spatial = kernel.ndim - 2
    if len(x.shape) != spatial + 2:
        raise ctx.error(f"input of rank {len(x.shape)} does not fit a {spatial}-D filter")
    groups = int(node.get("number_groups", 1) or 1)
    x = ctx.to_layout(x, data_order, canonical=True)
    if node.op == "Conv" and groups > 1 and kernel.shape[1] == groups and x.shape[1] == groups:
        # NVIDIA's depthwise form: the TF filter [H, W, C, M] as "+CK" (canonical K=M, C=C),
        # output channel c*M + m -> TensorRT's grouped filter (C*M, 1, H, W)
        m = kernel.shape[0]
        kernel = np.ascontiguousarray(np.swapaxes(kernel, 0, 1)).reshape(groups * m, 1, *kernel.shape[2:])
    empty = ctx.trt.Weights(ctx.tensorrt.trt_dtype(ctx.compute))
    if node.op == "ConvTranspose":
        # canonical (K=out, C=in, ...) -> TensorRT deconvolution weights (in, out/groups, ...)
        kernel = np.ascontiguousarray(np.swapaxes(kernel, 0, 1))
        out_channels = kernel.shape[1] * groups
        layer = ctx.network.add_deconvolution_nd(
            x, out_channels, kernel.shape[2:], ctx.float_weights(kernel), empty
        )
    else:
        out_channels = kernel.shape[0]
        layer = ctx.network.add_convolution_nd(
            x, out_channels, kernel.shape[2:], ctx.float_weights(kernel), empty
        )
    layer.stride_nd = tuple(int(s) for s in node.get("strides"))
    dilation = node.get("dilation")
    if dilation and node.op == "Conv":
        layer.dilation_nd = tuple(int(d) for d in dilation)
    layer.num_groups = groups
    apply_padding(ctx, layer, node, spatial)
    if data_order is None or _identity(data_order, spatial):
        return ctx.finish(layer)
    y = ctx.finish(layer, ctx.sub("conv"))
    return _back(ctx, y, data_order)


def _identity(order: Any, spatial: int) -> bool:
    return order.for_rank(spatial + 2) == list(range(spatial + 2))


def _back(ctx: ImportContext, y: Any, order: Any) -> Any:
    rank = len(y.shape)
    return ctx.shuffle(y, perm=order.for_rank(rank), name=ctx.node.id)
