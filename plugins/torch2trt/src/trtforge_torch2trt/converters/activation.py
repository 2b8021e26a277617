"""Activations: relu, relu6/hardtanh, clamp, sigmoid, tanh, gelu, silu, hardswish, ..."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.converters import arg, aten
from trtforge_torch2trt.impl.activation import activation, clamp, gelu, hardswish, silu
from trtforge_torch2trt.network import NetworkContext
from trtforge_torch2trt.registry import converter

A = aten()

_SIMPLE = {
    A.relu.default: "RELU",
    A.sigmoid.default: "SIGMOID",
    A.tanh.default: "TANH",
    A.softplus.default: "SOFTPLUS",
}


@converter(*_SIMPLE)
def convert_simple_activation(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    kind = _SIMPLE[node.target]
    if kind == "SOFTPLUS":
        beta = float(arg(args, kwargs, 1, "beta", 1.0))
        if beta != 1.0:
            raise net.error("softplus with beta != 1 is not supported")
    return activation(net, args[0], kind, node.name, 1.0 if kind == "SOFTPLUS" else None,
                      1.0 if kind == "SOFTPLUS" else None)


@converter(A.hardtanh.default)
def convert_hardtanh(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return clamp(net, args[0], float(arg(args, kwargs, 1, "min_val", -1.0)),
                 float(arg(args, kwargs, 2, "max_val", 1.0)), node.name)


def scalar_bounds(node: Any) -> bool | str:
    for index, name in ((1, "min"), (2, "max")):
        value = node.args[index] if index < len(node.args) else node.kwargs.get(name)
        if value is not None and not isinstance(value, (int, float)):
            return "clamp bounds must be numbers"
    return True


@converter(A.clamp.default, validator=scalar_bounds)
def convert_clamp(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    low, high = arg(args, kwargs, 1, "min"), arg(args, kwargs, 2, "max")
    return clamp(net, args[0], None if low is None else float(low),
                 None if high is None else float(high), node.name)


@converter(A.gelu.default)
def convert_gelu(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return gelu(net, args[0], str(arg(args, kwargs, 1, "approximate", "none")), node.name)


@converter(A.silu.default)
def convert_silu(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return silu(net, args[0], node.name)


@converter(A.hardswish.default)
def convert_hardswish(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return hardswish(net, args[0], node.name)


@converter(A.hardsigmoid.default)
def convert_hardsigmoid(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return activation(net, args[0], "HARD_SIGMOID", node.name, 1.0 / 6.0, 0.5)


@converter(A.leaky_relu.default)
def convert_leaky_relu(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return activation(net, args[0], "LEAKY_RELU", node.name,
                      float(arg(args, kwargs, 1, "negative_slope", 0.01)))


@converter(A.elu.default)
def convert_elu(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    alpha = float(arg(args, kwargs, 1, "alpha", 1.0))
    if float(arg(args, kwargs, 2, "scale", 1.0)) != 1.0 or float(arg(args, kwargs, 3, "input_scale", 1.0)) != 1.0:
        raise net.error("elu with scale or input_scale is not supported")
    return activation(net, args[0], "ELU", node.name, alpha)
