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
    if any(s < 0 for s in spatial):
        raise net.error(f"adaptive pooling over dynamic sizes {spatial}")
    if not any(s % o for s, o in zip(spatial, out)):
        kernel = [s // o for s, o in zip(spatial, out)]
        return pool(net, x, "AVERAGE", kernel, kernel, [0] * len(kernel), False, name)
    return _adaptive_by_slices(net, x, spatial, out, name)


def _adaptive_by_slices(net: NetworkContext, x: Any, spatial: Sequence[int], out: Sequence[int],
                        name: str) -> Any:
    """General adaptive average pooling, one axis at a time (it is separable): output cell i
    averages input cells floor(i*S/O) .. ceil((i+1)*S/O)-1, as PyTorch defines it."""
    from trtforge_torch2trt.impl.reduce import reduce
    from trtforge_torch2trt.impl.shape import concat, slice_axis

    rank = net.rank(x)
    for k, (size, cells) in enumerate(zip(spatial, out)):
        axis = rank - len(out) + k
        last = k == len(out) - 1
        pieces = []
        for i in range(cells):
            start, end = (i * size) // cells, -(-((i + 1) * size) // cells)
            part = slice_axis(net, x, axis, start, end, 1, f"{name}/a{axis}_{i}")
            pieces.append(reduce(net, part, "AVG", [axis], True, f"{name}/a{axis}_{i}_mean"))
        x = concat(net, pieces, axis, name if last else f"{name}/a{axis}")
    return x
