"""Binary, Unary and Activation nodes (numpy broadcasting, constants folded in numpy)."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_uff.importer.network import ImportContext
from trtforge_uff.importer.registry import converter

BINARY = {"add": "SUM", "sub": "SUB", "mul": "PROD", "div": "DIV", "max": "MAX", "min": "MIN",
          "pow": "POW", "floordiv": "FLOOR_DIV"}
BINARY_NUMPY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                "max": np.maximum, "min": np.minimum, "pow": np.power, "floordiv": np.floor_divide}
UNARY = {"neg": "NEG", "exp": "EXP", "log": "LOG", "abs": "ABS", "sqrt": "SQRT", "reciprocal": "RECIP",
         "sin": "SIN", "cos": "COS", "tan": "TAN", "floor": "FLOOR", "ceil": "CEIL", "asin": "ASIN",
         "acos": "ACOS", "atan": "ATAN", "sinh": "SINH", "cosh": "COSH"}
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def elementwise(ctx: ImportContext, a: Any, b: Any, op: str, name: str | None = None) -> Any:
    a, b = ctx.broadcast_pair(a, b)
    layer = ctx.network.add_elementwise(a, b, getattr(ctx.trt.ElementWiseOperation, op))
    return ctx.finish(layer, name)


def _func_in(table: dict[str, str]) -> Any:
    def validator(node: Any, graph: Any) -> bool | str:
        return node.get("func") in table or f"func {node.get('func')!r} is not one of {', '.join(table)}"
    return validator


@converter("Binary", validator=_func_in(BINARY))
def binary(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    a, b = inputs
    func = node.get("func")
    if not ctx.is_tensor(a) and not ctx.is_tensor(b):
        return BINARY_NUMPY[func](np.asarray(a), np.asarray(b))
    return elementwise(ctx, a, b, BINARY[func])


def unary_layer(ctx: ImportContext, x: Any, op: str, name: str | None = None) -> Any:
    return ctx.finish(ctx.network.add_unary(x, getattr(ctx.trt.UnaryOperation, op)), name)


@converter("Unary", validator=_func_in({**UNARY, "rsqrt": "", "square": ""}))
def unary(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x = ctx.tensor(inputs[0], ctx.sub("input"))
    func = node.get("func")
    if func == "square":
        return ctx.finish(ctx.network.add_elementwise(x, x, ctx.trt.ElementWiseOperation.PROD))
    if func == "rsqrt":
        root = unary_layer(ctx, x, "SQRT", ctx.sub("sqrt"))
        return unary_layer(ctx, root, "RECIP")
    return unary_layer(ctx, x, UNARY[func])


ACTIVATIONS = {"relu": "RELU", "sigmoid": "SIGMOID", "tanh": "TANH", "elu": "ELU", "selu": "SELU",
               "softsign": "SOFTSIGN", "softplus": "SOFTPLUS", "leaky_relu": "LEAKY_RELU", "relu6": "CLIP"}


@converter("Activation", validator=_func_in(ACTIVATIONS))
def activation(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x = ctx.tensor(inputs[0], ctx.sub("input"))
    func = node.get("func")
    layer = ctx.network.add_activation(x, getattr(ctx.trt.ActivationType, ACTIVATIONS[func]))
    if func == "relu6":
        layer.alpha, layer.beta = 0.0, 6.0
    elif func == "leaky_relu":
        layer.alpha = float(node.get("alpha", 0.2))
    elif func == "elu":
        layer.alpha = float(node.get("alpha", 1.0))
    elif func == "selu":
        layer.alpha, layer.beta = SELU_ALPHA, SELU_SCALE
    elif func == "softplus":
        layer.alpha, layer.beta = 1.0, 1.0
    return ctx.finish(layer)
