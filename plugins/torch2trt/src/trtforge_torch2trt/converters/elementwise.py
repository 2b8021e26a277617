"""Arithmetic, comparisons, logic, where, and unary math."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.converters import arg, aten
from trtforge_torch2trt.impl.elementwise import binary, select, true_divide, unary
from trtforge_torch2trt.network import NetworkContext
from trtforge_torch2trt.registry import converter

A = aten()

_BINARY = {
    A.mul.Tensor: "PROD", A.mul.Scalar: "PROD",
    A.maximum.default: "MAX", A.minimum.default: "MIN",
    A.pow.Tensor_Tensor: "POW",
    A.eq.Tensor: "EQUAL", A.eq.Scalar: "EQUAL",
    A.gt.Tensor: "GREATER", A.gt.Scalar: "GREATER",
    A.lt.Tensor: "LESS", A.lt.Scalar: "LESS",
    A.logical_and.default: "AND", A.logical_or.default: "OR", A.logical_xor.default: "XOR",
}


@converter(A.add.Tensor, A.add.Scalar, A.sub.Tensor, A.sub.Scalar, A.rsub.Scalar, A.rsub.Tensor)
def convert_add_sub(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    a, b = args[0], args[1]
    if net.quantizer is not None:  # a residual Add's Q/DQ, so TensorRT fuses it into the INT8 conv
        a, b = net.quantizer.residual_inputs(net, node.name, (a, b))
    alpha = arg(args, kwargs, 2, "alpha", 1)
    if node.target in (A.rsub.Scalar, A.rsub.Tensor):
        a, b = b, a
    subtract = node.target in (A.sub.Tensor, A.sub.Scalar, A.rsub.Scalar, A.rsub.Tensor)
    if alpha != 1:
        b = binary(net, "PROD", b, alpha, f"{node.name}/alpha") if net.is_itensor(b) else b * alpha
    return binary(net, "SUB" if subtract else "SUM", a, b, node.name)


@converter(*_BINARY)
def convert_binary(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return binary(net, _BINARY[node.target], args[0], args[1], node.name)


@converter(A.ne.Tensor, A.ne.Scalar, A.ge.Tensor, A.ge.Scalar, A.le.Tensor, A.le.Scalar)
def convert_negated_comparison(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    base = {"ne": "EQUAL", "ge": "LESS", "le": "GREATER"}[node.target._opname]
    opposite = binary(net, base, args[0], args[1], f"{node.name}/not")
    return unary(net, "NOT", opposite, node.name)


def no_rounding_mode(node: Any) -> bool | str:
    mode = node.kwargs.get("rounding_mode")
    if mode not in (None, "floor") and mode != "trunc":
        return f"division with rounding_mode={mode!r}"
    return True


@converter(A.div.Tensor, A.div.Scalar, A.div.Tensor_mode, validator=no_rounding_mode)
def convert_div(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    mode = kwargs.get("rounding_mode")
    if mode == "floor":
        return binary(net, "FLOOR_DIV", args[0], args[1], node.name)
    if mode == "trunc":
        quotient = true_divide(net, args[0], args[1], f"{node.name}/quotient")
        sign = unary(net, "SIGN", quotient, f"{node.name}/sign")
        magnitude = unary(net, "FLOOR", unary(net, "ABS", quotient, f"{node.name}/abs"), f"{node.name}/floor")
        return binary(net, "PROD", sign, magnitude, node.name)
    return true_divide(net, args[0], args[1], node.name)


@converter(A.pow.Tensor_Scalar)
def convert_pow_scalar(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    exponent = args[1]
    if exponent == 2:
        return binary(net, "PROD", args[0], args[0], node.name)
    if exponent == 0.5:
        return unary(net, "SQRT", args[0], node.name, precise=True)
    if exponent == 1:
        from trtforge_torch2trt.impl.cast import identity

        return identity(net, args[0], node.name)
    return binary(net, "POW", args[0], float(exponent), node.name)


_UNARY = {
    A.exp.default: ("EXP", True), A.log.default: ("LOG", True), A.sqrt.default: ("SQRT", True),
    A.abs.default: ("ABS", False), A.neg.default: ("NEG", False), A.floor.default: ("FLOOR", False),
    A.ceil.default: ("CEIL", False), A.sin.default: ("SIN", False), A.cos.default: ("COS", False),
    A.erf.default: ("ERF", False), A.reciprocal.default: ("RECIP", True),
    A.logical_not.default: ("NOT", False), A.sign.default: ("SIGN", False),
    A.round.default: ("ROUND", False),
}


@converter(*_UNARY)
def convert_unary(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    op, precise = _UNARY[node.target]
    x = args[0]
    if op == "NOT" and net.dtype_name(x) != "bool":
        x = net.cast(x, "bool", f"{node.name}/bool")
    return unary(net, op, x, node.name, precise=precise)


@converter(A.log1p.default)
def convert_log1p(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    shifted = binary(net, "SUM", args[0], 1.0, f"{node.name}/plus1")
    return unary(net, "LOG", shifted, node.name, precise=True)


@converter(A.expm1.default)
def convert_expm1(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    exp = unary(net, "EXP", args[0], f"{node.name}/exp", precise=True)
    return binary(net, "SUB", exp, 1.0, node.name)


@converter(A.rsqrt.default)
def convert_rsqrt(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    root = unary(net, "SQRT", args[0], f"{node.name}/sqrt", precise=True)
    return unary(net, "RECIP", root, node.name, precise=True)


@converter(A.where.self)
def convert_where(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return select(net, args[0], args[1], args[2], node.name)
