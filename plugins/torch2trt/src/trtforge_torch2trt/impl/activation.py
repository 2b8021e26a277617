"""Activations through IActivationLayer, plus compositions TensorRT lacks as one layer."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.network import NetworkContext


def activation(net: NetworkContext, x: Any, kind: str, name: str, alpha: float | None = None,
               beta: float | None = None) -> Any:
    layer = net.network.add_activation(x, getattr(net.trt.ActivationType, kind))
    if alpha is not None:
        layer.alpha = float(alpha)
    if beta is not None:
        layer.beta = float(beta)
    return net.finish(layer, name)


def clamp(net: NetworkContext, x: Any, low: float | None, high: float | None, name: str) -> Any:
    """``clamp(x, low, high)``: CLIP when both bounds are given, else MAX/MIN with a constant."""
    from trtforge_torch2trt.impl.elementwise import binary

    if low is not None and high is not None and net.is_float(x):
        return activation(net, x, "CLIP", name, low, high)
    if low is not None and high is not None:
        lower = binary(net, "MAX", x, low, f"{name}/low")
        return binary(net, "MIN", lower, high, name)
    if low is not None:
        return binary(net, "MAX", x, low, name)
    if high is not None:
        return binary(net, "MIN", x, high, name)
    from trtforge_torch2trt.impl.cast import identity

    return identity(net, x, name)


def hardswish(net: NetworkContext, x: Any, name: str) -> Any:
    """x * hardsigmoid(x) with hardsigmoid = clip(x/6 + 1/2, 0, 1)."""
    from trtforge_torch2trt.impl.elementwise import binary

    gate = activation(net, x, "HARD_SIGMOID", f"{name}/gate", 1.0 / 6.0, 0.5)
    return binary(net, "PROD", x, gate, name)


def silu(net: NetworkContext, x: Any, name: str) -> Any:
    from trtforge_torch2trt.impl.elementwise import binary

    gate = activation(net, x, "SIGMOID", f"{name}/gate")
    return binary(net, "PROD", x, gate, name)


def has_activation(net: NetworkContext, kind: str) -> bool:
    return hasattr(net.trt.ActivationType, kind)


def gelu(net: NetworkContext, x: Any, approximate: str, name: str) -> Any:
    """GELU as one activation layer where TensorRT has it (10+), else composed from layers
    every version has (TensorRT 8.x has no GELU_ERF/GELU_TANH activation)."""
    kind = "GELU_TANH" if approximate == "tanh" else "GELU_ERF"
    if has_activation(net, kind):
        return activation(net, x, kind, name)
    from trtforge_torch2trt.impl.elementwise import binary, unary

    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = binary(net, "PROD", binary(net, "PROD", x, x, f"{name}/x2"), x, f"{name}/x3")
        inner = binary(net, "SUM", x, binary(net, "PROD", cube, 0.044715, f"{name}/cx3"), f"{name}/inner")
        scaled = binary(net, "PROD", inner, 0.7978845608028654, f"{name}/scaled")
        gate = activation(net, scaled, "TANH", f"{name}/tanh")
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        gate = unary(net, "ERF", binary(net, "PROD", x, 0.7071067811865476, f"{name}/scaled"), f"{name}/erf")
    half = binary(net, "PROD", x, 0.5, f"{name}/half")
    return binary(net, "PROD", half, binary(net, "SUM", gate, 1.0, f"{name}/one_plus"), name)
