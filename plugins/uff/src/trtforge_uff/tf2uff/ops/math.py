"""Elementwise binary/unary ops, activations, reductions (AddV2 and AddN included)."""
from __future__ import annotations

from trtforge_uff.tf2uff.context import TfContext
from trtforge_uff.tf2uff.registry import tf_op

BINARY = {"Add": "add", "AddV2": "add", "Sub": "sub", "Mul": "mul", "RealDiv": "div", "Div": "div",
          "Maximum": "max", "Minimum": "min", "Pow": "pow", "FloorDiv": "floordiv"}
UNARY = {"Neg": "neg", "Exp": "exp", "Log": "log", "Abs": "abs", "Sqrt": "sqrt", "Rsqrt": "rsqrt",
         "Square": "square", "Reciprocal": "reciprocal", "Inv": "reciprocal", "Sin": "sin", "Cos": "cos",
         "Floor": "floor", "Ceil": "ceil"}
ACTIVATION = {"Relu": "relu", "Relu6": "relu6", "Sigmoid": "sigmoid", "Tanh": "tanh", "Elu": "elu",
              "Selu": "selu", "Softsign": "softsign", "Softplus": "softplus", "LeakyRelu": "leaky_relu"}
REDUCE = {"Sum": "sum", "Mean": "mean", "Max": "max", "Min": "min", "Prod": "prod"}


@tf_op(*BINARY)
def binary(ctx: TfContext) -> str:
    return ctx.builder.binary(ctx.name, ctx.input(0), ctx.input(1), BINARY[ctx.node.op])


@tf_op("AddN")
def add_n(ctx: TfContext) -> str:
    names = [ctx.input(i) for i in range(len(ctx.data_inputs()))]
    if len(names) == 1:
        return names[0]  # recorded as an alias of the TF node
    total = names[0]
    for k, name in enumerate(names[1:], start=1):
        out = ctx.name if k == len(names) - 1 else ctx.sub(f"sum{k}")
        total = ctx.builder.binary(out, total, name, "add")
    return total


@tf_op(*UNARY)
def unary(ctx: TfContext) -> str:
    return ctx.builder.unary(ctx.name, ctx.input(0), UNARY[ctx.node.op])


@tf_op(*ACTIVATION)
def activation(ctx: TfContext) -> str:
    alpha = ctx.attr("alpha") if ctx.node.op == "LeakyRelu" else None
    return ctx.builder.activation(ctx.name, ctx.input(0), ACTIVATION[ctx.node.op], alpha)


def _const_axes(ctx: TfContext) -> bool | str:
    return ctx.const(ctx.data_inputs()[1]) is not None or "the reduction axes must be a constant"


@tf_op(*REDUCE, check=_const_axes)
def reduce(ctx: TfContext) -> str:
    axes = [int(a) for a in ctx.const_input(1, "axes").reshape(-1)]
    return ctx.builder.reduce(ctx.name, ctx.input(0), REDUCE[ctx.node.op], axes,
                              bool(ctx.attr("keep_dims", False)))
