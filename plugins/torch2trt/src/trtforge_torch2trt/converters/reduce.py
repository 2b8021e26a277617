"""Reductions: mean, sum, amax/amin, var, any."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.converters import arg, aten
from trtforge_torch2trt.impl.reduce import reduce, variance
from trtforge_torch2trt.network import NetworkContext
from trtforge_torch2trt.registry import converter

A = aten()


def _dims(value: Any) -> list[int] | None:
    if value is None:
        return None
    return [int(value)] if isinstance(value, int) else [int(v) for v in value]


@converter(A.mean.dim, A.mean.default)
def convert_mean(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return reduce(net, args[0], "AVG", _dims(arg(args, kwargs, 1, "dim")),
                  bool(arg(args, kwargs, 2, "keepdim", False)), node.name)


@converter(A.sum.dim_IntList, A.sum.default)
def convert_sum(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return reduce(net, args[0], "SUM", _dims(arg(args, kwargs, 1, "dim")),
                  bool(arg(args, kwargs, 2, "keepdim", False)), node.name)


@converter(A.amax.default, A.amin.default)
def convert_amax_amin(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    op = "MAX" if node.target == A.amax.default else "MIN"
    return reduce(net, args[0], op, _dims(arg(args, kwargs, 1, "dim")),
                  bool(arg(args, kwargs, 2, "keepdim", False)), node.name)


@converter(A.var.correction, A.var.dim)
def convert_var(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    dims = _dims(arg(args, kwargs, 1, "dim")) or list(range(net.rank(args[0])))
    if node.target == A.var.dim:
        correction = 1.0 if arg(args, kwargs, 2, "unbiased", True) else 0.0
        keepdim = bool(arg(args, kwargs, 3, "keepdim", False))
    else:
        value = kwargs.get("correction")
        correction = 1.0 if value is None else float(value)
        keepdim = bool(kwargs.get("keepdim", False))
    return variance(net, args[0], dims, correction, keepdim, node.name)


@converter(A.any.dim, A.any.dims)
def convert_any(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    x = net.cast(args[0], "int32", f"{node.name}/int")
    hits = reduce(net, x, "MAX", _dims(arg(args, kwargs, 1, "dim")),
                  bool(arg(args, kwargs, 2, "keepdim", False)), f"{node.name}/max")
    return net.cast(hits, "bool", node.name)
