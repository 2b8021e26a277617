"""Softmax and log-softmax along one axis, in FP32 under reduced precision."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.impl.cast import precise_in, precise_out
from trtforge_torch2trt.network import NetworkContext


def softmax(net: NetworkContext, x: Any, dim: int, name: str, log: bool = False) -> Any:
    rank = net.rank(x)
    dim = dim + rank if dim < 0 else dim
    inner, original = precise_in(net, x, name)
    layer = net.network.add_softmax(inner)
    layer.axes = 1 << dim
    last = not log and original is None
    y = net.finish(layer, name if last else f"{name}/softmax")
    if log:
        layer = net.network.add_unary(y, net.trt.UnaryOperation.LOG)
        y = net.finish(layer, name if original is None else f"{name}/log")
    return precise_out(net, y, original, name)
