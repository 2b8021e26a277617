"""Max/average pooling, adaptive average pooling (as pooling when it divides, else mean)."""
from __future__ import annotations

from typing import Any, Sequence

from trtforge_torch2trt.network import NetworkContext


def pool(
    net: NetworkContext, x: Any, kind: str, kernel: Sequence[int], stride: Sequence[int],
    padding: Sequence[int], ceil_mode: bool, name: str, count_include_pad: bool = True,
    dilation: Sequence[int] | None = None,
) -> Any:
    """``kind`` is ``MAX`` or ``AVERAGE``; ``stride`` defaults to the kernel (PyTorch)."""
    trt = net.trt
    kernel = tuple(int(k) for k in kernel)
    stride = tuple(int(s) for s in (stride or kernel))
    padding = tuple(int(p) for p in padding) if padding else (0,) * len(kernel)
    if len(padding) == 1:
        padding = padding * len(kernel)
    layer = net.network.add_pooling_nd(x, getattr(trt.PoolingType, kind), kernel)
    layer.stride_nd = stride
    layer.padding_nd = padding
    if ceil_mode:
        layer.padding_mode = trt.PaddingMode.EXPLICIT_ROUND_UP
    if kind == "AVERAGE":
        layer.average_count_excludes_padding = not count_include_pad
    return net.finish(layer, name)


def adaptive_avg_pool(net: NetworkContext, x: Any, output_size: Sequence[int], name: str) -> Any:
    from trtforge_torch2trt.impl.reduce import reduce

    spatial = net.shape(x)[-len(output_size):]
    out = [int(o) for o in output_size]
    if all(o == 1 for o in out):
        axes = list(range(net.rank(x) - len(out), net.rank(x)))
        return reduce(net, x, "AVG", axes, True, name)
    if any(s < 0 for s in spatial) or any(s % o for s, o in zip(spatial, out)):
        raise net.error(f"adaptive pooling from {spatial} to {out} needs divisible static sizes")
    kernel = [s // o for s, o in zip(spatial, out)]
    return pool(net, x, "AVERAGE", kernel, kernel, [0] * len(kernel), False, name)
