"""Binary math (Add/AddV2/AddN/Sub/Mul/RealDiv/Maximum/Minimum/Pow/SquaredDifference/
FloorDiv) with TensorFlow broadcasting, and unary math (Rsqrt/Sqrt/Square/Exp/Log/Abs/Neg/
Reciprocal/Floor/Ceil/Erf/...)."""
from __future__ import annotations

from typing import Any

from trtforge_tf_trt.impl.elementwise import binary, unary
from trtforge_tf_trt.network import Act, NetworkContext
from trtforge_tf_trt.registry import converter

_BINARY = {"Add": "SUM", "AddV2": "SUM", "Sub": "SUB", "Mul": "PROD", "RealDiv": "DIV",
           "Div": "DIV", "Maximum": "MAX", "Minimum": "MIN", "Pow": "POW", "FloorDiv": "FLOOR_DIV"}
_PRECISE_BINARY = {"Pow"}
_UNARY = {"Sqrt": "SQRT", "Abs": "ABS", "Neg": "NEG", "Reciprocal": "RECIP", "Inv": "RECIP",
          "Floor": "FLOOR", "Ceil": "CEIL", "Erf": "ERF", "Sin": "SIN", "Cos": "COS",
          "Exp": "EXP", "Log": "LOG", "Round": "ROUND", "Sign": "SIGN"}
_PRECISE_UNARY = {"Exp", "Log"}


@converter(*_BINARY)
def binary_op(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    a, b = inputs
    if node.op in _PRECISE_BINARY and net.policy.reduced:
        from trtforge_tf_trt.impl.elementwise import precise_in, precise_out

        lead = a if isinstance(a, Act) else b
        original = net.dtype_name(lead.tensor)
        a32 = Act(precise_in(net, a.tensor, f"{node.name}/a")[0], a.perm) if isinstance(a, Act) else a
        b32 = Act(precise_in(net, b.tensor, f"{node.name}/b")[0], b.perm) if isinstance(b, Act) else b
        out = binary(net, _BINARY[node.op], a32, b32, f"{node.name}/float32")
        return Act(precise_out(net, out.tensor, original if original != "float32" else None, node.name),
                   out.perm)
    return binary(net, _BINARY[node.op], a, b, node.name)


@converter("AddN")
def add_n(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    total = inputs[0]
    for k, value in enumerate(inputs[1:], start=1):
        last = k == len(inputs) - 1
        total = binary(net, "SUM", total, value, node.name if last else f"{node.name}/sum{k}")
    return total


@converter("SquaredDifference")
def squared_difference(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    diff = binary(net, "SUB", inputs[0], inputs[1], f"{node.name}/diff")
    return binary(net, "PROD", diff, diff, node.name)


@converter("Square")
def square(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return binary(net, "PROD", inputs[0], inputs[0], node.name)


@converter("Rsqrt")
def rsqrt(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return unary(net, "RECIP", unary(net, "SQRT", inputs[0], f"{node.name}/sqrt"), node.name)


@converter(*_UNARY)
def unary_op(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return unary(net, _UNARY[node.op], inputs[0], node.name,
                 precise=node.op in _PRECISE_UNARY and net.policy.reduced)
