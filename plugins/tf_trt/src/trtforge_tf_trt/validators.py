"""Capability validators the converters share: each takes the node, returns True or why not."""
from __future__ import annotations

from typing import Any, Callable

Validator = Callable[[Any], "bool | str"]


def const_inputs(*indices: int) -> Validator:
    """The inputs at ``indices`` must be constants (weights, shapes, axes)."""
    def check(node: Any) -> bool | str:
        for i in indices:
            if i < len(node.inputs) and node.input_const(i) is None:
                return f"input {i} ({node.inputs[i]}) must be a constant, it is computed at run time"
        return True

    check.__qualname__ = f"const_inputs{indices}"
    return check


def all_of(*checks: Validator) -> Validator:
    def check(node: Any) -> bool | str:
        for one in checks:
            verdict = one(node)
            if verdict is not True:
                return verdict if isinstance(verdict, str) else f"refused by {one.__qualname__}"
        return True

    check.__qualname__ = "all_of(" + ", ".join(c.__qualname__ for c in checks) + ")"
    return check


def static_input(index: int = 0) -> Validator:
    """Input ``index`` must have a fully known shape at the network's input shapes."""
    def check(node: Any) -> bool | str:
        shape = node.input_shape(index)
        if shape is None or any(d is None or d < 0 for d in shape):
            return f"input {index} has a dynamic shape {shape}; this converter needs static shapes"
        return True

    check.__qualname__ = f"static_input({index})"
    return check


def rank_is(*ranks: int, index: int = 0) -> Validator:
    def check(node: Any) -> bool | str:
        shape = node.input_shape(index)
        if shape is None or len(shape) not in ranks:
            return f"input {index} has rank {None if shape is None else len(shape)}, not {ranks}"
        return True

    check.__qualname__ = f"rank_is{ranks}"
    return check


def data_format_2d(node: Any) -> bool | str:
    fmt = node.attr("data_format", "NHWC")
    return True if fmt in ("NHWC", "NCHW") else f"data_format {fmt!r} is not NHWC or NCHW"


def float_or_int32(node: Any) -> bool | str:
    dtype = node.output_dtype(0)
    if dtype in ("float32", "float16", "bfloat16", "int32", "int64", "bool", "uint8", "int8"):
        return True
    return f"dtype {dtype} has no TensorRT equivalent"
