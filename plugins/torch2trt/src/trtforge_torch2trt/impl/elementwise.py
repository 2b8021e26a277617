"""Elementwise binary/unary math with PyTorch broadcasting and dtype promotion."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.impl.shape import expand_rank  # noqa: F401  (also imported from here)
from trtforge_torch2trt.network import FLOAT_NAMES, NetworkContext, ShapeScalar

_RANK = {"bool": 0, "uint8": 1, "int8": 1, "int32": 2, "int64": 3, "bfloat16": 4, "float16": 4,
         "float32": 5}


def promote(net: NetworkContext, a: Any, b: Any, name: str) -> tuple[Any, Any]:
    """Both operands as ITensors of one dtype and rank (constants follow the tensor's dtype)."""
    a_is, b_is = net.is_itensor(a) or isinstance(a, ShapeScalar), net.is_itensor(b) or isinstance(b, ShapeScalar)
    if a_is and not b_is:
        a = net.tensor(a, f"{name}/a")
        b = net.tensor(_at_rank(b, net.rank(a)), f"{name}/b", like=a)
    elif b_is and not a_is:
        b = net.tensor(b, f"{name}/b")
        a = net.tensor(_at_rank(a, net.rank(b)), f"{name}/a", like=b)
    else:
        a, b = net.tensor(a, f"{name}/a"), net.tensor(b, f"{name}/b")
        da, db = net.dtype_name(a), net.dtype_name(b)
        if da != db:
            target = da if _RANK.get(da, 0) >= _RANK.get(db, 0) else db
            a, b = net.cast(a, target, f"{name}/a_{target}"), net.cast(b, target, f"{name}/b_{target}")
    rank = max(net.rank(a), net.rank(b))
    return expand_rank(net, a, rank, f"{name}/a_rank"), expand_rank(net, b, rank, f"{name}/b_rank")


def _at_rank(value: Any, rank: int) -> Any:
    """A constant with leading 1s up to ``rank`` (no reshape layer needed to broadcast it)."""
    import torch

    tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
    if tensor.dim() < rank:
        tensor = tensor.reshape((1,) * (rank - tensor.dim()) + tuple(tensor.shape))
    return tensor


def binary(net: NetworkContext, op: str, a: Any, b: Any, name: str) -> Any:
    """``a <op> b`` with ``op`` an ``ElementWiseOperation`` name (SUM, PROD, DIV, ...)."""
    if isinstance(b, (int, float)) and not isinstance(b, bool) and net.is_itensor(a):
        if isinstance(b, float) and net.dtype_name(a) not in FLOAT_NAMES:
            a = net.cast(a, "float32", f"{name}/a_float")
    if isinstance(a, (int, float)) and not isinstance(a, bool) and net.is_itensor(b):
        if isinstance(a, float) and net.dtype_name(b) not in FLOAT_NAMES:
            b = net.cast(b, "float32", f"{name}/b_float")
    x, y = promote(net, a, b, name)
    layer = net.network.add_elementwise(x, y, getattr(net.trt.ElementWiseOperation, op))
    return net.finish(layer, name)


def true_divide(net: NetworkContext, a: Any, b: Any, name: str) -> Any:
    """PyTorch ``/`` on integers gives floats."""
    if net.is_itensor(a) and net.dtype_name(a) not in FLOAT_NAMES:
        a = net.cast(a, "float32", f"{name}/a_float")
    if net.is_itensor(b) and net.dtype_name(b) not in FLOAT_NAMES:
        b = net.cast(b, "float32", f"{name}/b_float")
    if not net.is_itensor(a) and not net.is_itensor(b):
        return binary(net, "DIV", a, b, name)
    if isinstance(b, (int, float)) and net.is_itensor(a):
        b = float(b)
    return binary(net, "DIV", a, b, name)


def unary(net: NetworkContext, op: str, x: Any, name: str, precise: bool = False) -> Any:
    """``op(x)`` for a ``UnaryOperation`` name; ``precise`` runs it in FP32 (policy)."""
    from trtforge_torch2trt.impl.cast import precise_in, precise_out

    x = net.tensor(x, f"{name}/x")
    inner, original = precise_in(net, x, name) if precise else (x, None)
    layer = net.network.add_unary(inner, getattr(net.trt.UnaryOperation, op))
    if original is None:
        return net.finish(layer, name)
    return precise_out(net, net.finish(layer, f"{name}/fp32"), original, name)


def select(net: NetworkContext, condition: Any, a: Any, b: Any, name: str) -> Any:
    """``where(condition, a, b)`` with broadcasting."""
    a, b = promote(net, a, b, f"{name}/ab")
    condition = net.tensor(condition, f"{name}/cond", dtype="bool")
    rank = max(net.rank(condition), net.rank(a))
    condition = expand_rank(net, condition, rank, f"{name}/cond_rank")
    a, b = expand_rank(net, a, rank, f"{name}/a_rank2"), expand_rank(net, b, rank, f"{name}/b_rank2")
    return net.finish(net.network.add_select(condition, a, b), name)
