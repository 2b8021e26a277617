"""Constant padding of the trailing dims (PyTorch's ``(left, right, top, bottom, ...)`` order)."""
from __future__ import annotations

from typing import Any, Sequence

from trtforge_torch2trt.network import NetworkContext


def constant_pad(net: NetworkContext, x: Any, pads: Sequence[int], value: float, name: str) -> Any:
    """A FILL-mode slice: negative start pads before, a larger size pads after (any rank)."""
    rank = net.rank(x)
    shape = net.shape(x)
    starts, sizes = [0] * rank, list(shape)
    for k in range(len(pads) // 2):
        axis = rank - 1 - k
        before, after = int(pads[2 * k]), int(pads[2 * k + 1])
        if shape[axis] < 0:
            raise net.error("padding a dynamic dimension is not supported")
        starts[axis] = -before
        sizes[axis] = shape[axis] + before + after
    if any(s < 0 for s in sizes):
        raise net.error("padding needs static sizes in the dims it keeps")
    fill = net.constant(float(value), f"{name}/value", net.dtype_name(x)) if value else None
    layer = net.network.add_slice(x, tuple(starts), tuple(sizes), (1,) * rank)
    layer.mode = net.trt.SampleMode.FILL
    if fill is not None:
        layer.set_input(4, fill)
    return net.finish(layer, name)
