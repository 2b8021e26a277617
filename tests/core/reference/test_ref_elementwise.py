"""ElementWise (every op, broadcasting, integer division), Unary (every op) and Select."""
from __future__ import annotations

import math

import numpy as np
import pytest
from ref_harness import run

A = np.array([[-3.5, -1.0, 0.5, 2.0, 7.0]], np.float32)
B = np.array([[2.0], [-3.0]], np.float32)  # broadcasts against A: (2, 5)

BINARY = {
    "SUM": np.add, "PROD": np.multiply, "MAX": np.maximum, "MIN": np.minimum, "SUB": np.subtract,
    "DIV": np.divide, "POW": lambda a, b: np.power(np.abs(a), b), "FLOOR_DIV": lambda a, b: np.floor(a / b),
}


@pytest.mark.parametrize("op", sorted(BINARY))
def test_float_elementwise(op: str) -> None:
    a = np.abs(A) if op == "POW" else A

    def build(net, trt, t):
        return net.add_elementwise(t["a"], t["b"], getattr(trt.ElementWiseOperation, op)).get_output(0)

    (got,) = run({"a": a, "b": B}, build)
    np.testing.assert_allclose(got, BINARY[op](a.astype(np.float64), B.astype(np.float64)), rtol=1e-6)


@pytest.mark.parametrize("op,expected", [
    ("DIV", [[3, -3, 2, -2]]),        # integer DIV truncates toward zero
    ("FLOOR_DIV", [[3, -4, 2, -3]]),  # FLOOR_DIV rounds down
])
def test_integer_division(op: str, expected: list[list[int]]) -> None:
    a = np.array([[7, -7, 5, -5]], np.int32)
    b = np.array([[2, 2, 2, 2]], np.int32)

    def build(net, trt, t):
        return net.add_elementwise(t["a"], t["b"], getattr(trt.ElementWiseOperation, op)).get_output(0)

    (got,) = run({"a": a, "b": b}, build)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("op,fn", [
    ("AND", np.logical_and), ("OR", np.logical_or), ("XOR", np.logical_xor),
])
def test_boolean_elementwise(op, fn) -> None:
    a = np.array([[True, True, False, False]])
    b = np.array([[True, False, True, False]])

    def build(net, trt, t):
        return net.add_elementwise(t["a"], t["b"], getattr(trt.ElementWiseOperation, op)).get_output(0)

    (got,) = run({"a": a, "b": b}, build)
    np.testing.assert_array_equal(got, fn(a, b))


@pytest.mark.parametrize("op,fn", [("EQUAL", np.equal), ("GREATER", np.greater), ("LESS", np.less)])
def test_comparisons_give_bool(op, fn) -> None:
    b = np.array([[0.5], [2.0]], np.float32)

    def build(net, trt, t):
        return net.add_elementwise(t["a"], t["b"], getattr(trt.ElementWiseOperation, op)).get_output(0)

    (got,) = run({"a": A, "b": b}, build)
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, fn(A, b))


U = np.array([[-2.5, -0.5, 0.25, 0.5, 1.5, 2.5]], np.float32)
UNARY = {
    "EXP": np.exp, "LOG": lambda x: np.log(np.abs(x)), "SQRT": lambda x: np.sqrt(np.abs(x)),
    "RECIP": lambda x: 1 / x, "ABS": np.abs, "NEG": np.negative, "SIN": np.sin, "COS": np.cos,
    "TAN": np.tan, "SINH": np.sinh, "COSH": np.cosh, "ASIN": lambda x: np.arcsin(x / 3),
    "ACOS": lambda x: np.arccos(x / 3), "ATAN": np.arctan, "ASINH": np.arcsinh,
    "ACOSH": lambda x: np.arccosh(np.abs(x) + 1), "ATANH": lambda x: np.arctanh(x / 3),
    "CEIL": np.ceil, "FLOOR": np.floor, "ERF": np.vectorize(math.erf), "SIGN": np.sign,
    "ROUND": np.round,  # numpy rounds half to even, as TensorRT documents
}
ARGUMENT = {"LOG": np.abs, "SQRT": np.abs, "ASIN": lambda x: x / 3, "ACOS": lambda x: x / 3,
            "ACOSH": lambda x: np.abs(x) + 1, "ATANH": lambda x: x / 3}


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary(op: str) -> None:
    x = ARGUMENT.get(op, lambda v: v)(U).astype(np.float32)

    def build(net, trt, t):
        return net.add_unary(t["x"], getattr(trt.UnaryOperation, op)).get_output(0)

    (got,) = run({"x": x}, build)
    np.testing.assert_allclose(got, UNARY[op](U.astype(np.float64)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op,fn", [("ISINF", np.isinf), ("ISNAN", np.isnan), ("NOT", np.logical_not)])
def test_unary_predicates(op, fn) -> None:
    x = np.array([[np.inf, -np.inf, np.nan, 0.0, 1.0]], np.float32)
    if op == "NOT":
        x = np.array([[True, False]])

    def build(net, trt, t):
        return net.add_unary(t["x"], getattr(trt.UnaryOperation, op)).get_output(0)

    (got,) = run({"x": x}, build)
    np.testing.assert_array_equal(got, fn(x))


def test_every_unary_and_elementwise_op_is_covered() -> None:
    import tensorrt_rtx as trt

    assert set(trt.UnaryOperation.__members__) == set(UNARY) | {"ISINF", "ISNAN", "NOT"}
    assert set(trt.ElementWiseOperation.__members__) == set(BINARY) | {"AND", "OR", "XOR", "EQUAL",
                                                                       "GREATER", "LESS"}


def test_select_broadcasts_condition() -> None:
    cond = np.array([[True], [False]])
    then = np.arange(6, dtype=np.float32).reshape(2, 3)
    other = -np.ones((2, 3), np.float32)

    def build(net, trt, t):
        return net.add_select(t["c"], t["t"], t["e"]).get_output(0)

    (got,) = run({"c": cond, "t": then, "e": other}, build)
    np.testing.assert_array_equal(got, np.where(cond, then, other))
