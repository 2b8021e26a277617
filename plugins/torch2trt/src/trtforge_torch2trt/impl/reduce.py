"""Reductions (sum, mean, max, min, prod, any/all) kept in FP32 under reduced precision."""
from __future__ import annotations

from typing import Any, Sequence

from trtforge_torch2trt.impl.cast import precise_in, precise_out
from trtforge_torch2trt.network import NetworkContext


def axes_mask(axes: Sequence[int], rank: int) -> int:
    mask = 0
    for a in axes:
        mask |= 1 << (a + rank if a < 0 else a)
    return mask


def reduce(net: NetworkContext, x: Any, op: str, axes: Sequence[int] | None, keepdim: bool,
           name: str) -> Any:
    """``op`` in SUM, AVG, MAX, MIN, PROD; ``axes=None`` reduces everything."""
    rank = net.rank(x)
    axes = list(range(rank)) if not axes else list(axes)
    if rank == 0:
        from trtforge_torch2trt.impl.cast import identity

        return identity(net, x, name)
    precise = op in ("SUM", "AVG", "PROD")
    inner, original = precise_in(net, x, name) if precise else (x, None)
    layer = net.network.add_reduce(inner, getattr(net.trt.ReduceOperation, op),
                                   axes_mask(axes, rank), bool(keepdim))
    if original is None:
        return net.finish(layer, name)
    return precise_out(net, net.finish(layer, f"{name}/fp32"), original, name)


def variance(net: NetworkContext, x: Any, axes: Sequence[int], correction: float, keepdim: bool,
             name: str) -> Any:
    """Var(x) = mean((x - mean)^2) * n / (n - correction), computed in FP32."""
    from trtforge_torch2trt.impl.elementwise import binary

    inner, original = precise_in(net, x, name)
    mean = reduce(net, inner, "AVG", axes, True, f"{name}/mean")
    diff = binary(net, "SUB", inner, mean, f"{name}/diff")
    sq = binary(net, "PROD", diff, diff, f"{name}/sq")
    var = reduce(net, sq, "AVG", axes, keepdim, f"{name}/fp32" if original else name)
    if correction:
        shape = net.shape(x)
        n = 1
        for a in axes:
            if shape[a] < 0:
                raise net.error("variance with a correction over a dynamic dim is not supported")
            n *= shape[a]
        var = binary(net, "PROD", var, float(n) / max(n - correction, 1), f"{name}/corrected")
    return precise_out(net, var, original, name)
