"""ElementWise (all ops, broadcasting), Unary (all ops) and Select."""
from __future__ import annotations

from typing import Any

from trtforge.reference.base import LayerView, register


def _binary(op: str, a: Any, b: Any) -> Any:
    import torch

    integer = not a.is_floating_point() and a.dtype != torch.bool
    table = {
        "SUM": lambda: a + b,
        "PROD": lambda: a * b,
        "MAX": lambda: torch.maximum(a, b),
        "MIN": lambda: torch.minimum(a, b),
        "SUB": lambda: a - b,
        # Integer DIV truncates toward zero (C semantics); FLOOR_DIV rounds down.
        "DIV": lambda: torch.div(a, b, rounding_mode="trunc") if integer else a / b,
        "POW": lambda: torch.pow(a, b),
        "FLOOR_DIV": lambda: torch.div(a, b, rounding_mode="floor"),
        "AND": lambda: torch.logical_and(a, b),
        "OR": lambda: torch.logical_or(a, b),
        "XOR": lambda: torch.logical_xor(a, b),
        "EQUAL": lambda: a == b,
        "GREATER": lambda: a > b,
        "LESS": lambda: a < b,
    }
    if op not in table:
        raise KeyError(op)
    return table[op]()


@register("ELEMENTWISE")
def elementwise(layer: LayerView, inputs: list[Any]) -> list[Any]:
    op = layer.attr("op")
    a, b = inputs[0], inputs[1]
    if a.dtype != b.dtype:
        b = b.to(a.dtype)
    try:
        return [_binary(op, a, b)]
    except KeyError:
        raise layer.fail(f"element-wise operation {op} is not modelled") from None


def _unary(op: str, x: Any) -> Any:
    import torch

    table = {
        "EXP": torch.exp, "LOG": torch.log, "SQRT": torch.sqrt, "RECIP": torch.reciprocal,
        "ABS": torch.abs, "NEG": torch.neg, "SIN": torch.sin, "COS": torch.cos, "TAN": torch.tan,
        "SINH": torch.sinh, "COSH": torch.cosh, "ASIN": torch.asin, "ACOS": torch.acos,
        "ATAN": torch.atan, "ASINH": torch.asinh, "ACOSH": torch.acosh, "ATANH": torch.atanh,
        "CEIL": torch.ceil, "FLOOR": torch.floor, "ERF": torch.erf, "NOT": torch.logical_not,
        "SIGN": torch.sign, "ROUND": torch.round,  # torch.round is round-half-to-even
        "ISINF": torch.isinf, "ISNAN": torch.isnan,
    }
    return table[op](x)


@register("UNARY")
def unary(layer: LayerView, inputs: list[Any]) -> list[Any]:
    op = layer.attr("op")
    try:
        return [_unary(op, inputs[0])]
    except KeyError:
        raise layer.fail(f"unary operation {op} is not modelled") from None


@register("SELECT")
def select(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch

    condition, then, otherwise = inputs
    if then.dtype != otherwise.dtype:
        otherwise = otherwise.to(then.dtype)
    return [torch.where(condition.bool(), then, otherwise)]
