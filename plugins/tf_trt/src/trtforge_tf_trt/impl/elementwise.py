"""Elementwise math: binary ops with TensorFlow broadcasting in any layout, unary ops,
activations, and the FP32 islands the precision policy keeps."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_tf_trt.network import FLOAT_NAMES, Act, NetworkContext

_RANK = {"bool": 0, "uint8": 1, "int8": 1, "int32": 2, "int64": 3, "bfloat16": 4, "float16": 4,
         "float32": 5}


def _expand(net: NetworkContext, act: Act, rank: int, name: str) -> Act:
    """``act`` with leading 1-axes up to ``rank`` (in TensorFlow's order)."""
    if act.rank >= rank:
        return act
    logical = net.logical(act)
    shape = (1,) * (rank - act.rank) + act.logical_shape()
    return Act(net.reshape(logical, [d if d >= 0 else 0 for d in shape], f"{name}/rank{rank}")
               if all(d >= 0 for d in shape) else _reshape_dynamic(net, logical, rank, name))


def _reshape_dynamic(net: NetworkContext, tensor: Any, rank: int, name: str) -> Any:
    layer = net.network.add_shuffle(tensor)
    layer.reshape_dims = (1,) * (rank - len(tensor.shape)) + (0,) * len(tensor.shape)
    layer.zero_is_placeholder = True
    return net.finish(layer, f"{name}/rank{rank}")


def operands(net: NetworkContext, a: Any, b: Any, name: str) -> tuple[Act, Any, Any]:
    """Both operands as ITensors of one dtype, rank and layout; the layout is the result's."""
    if isinstance(a, Act) and not isinstance(b, Act):
        b_tensor = net.constant_in_layout(b, a, f"{name}/b")
        return a, a.tensor, b_tensor
    if isinstance(b, Act) and not isinstance(a, Act):
        a_tensor = net.constant_in_layout(a, b, f"{name}/a")
        return b, a_tensor, b.tensor
    rank = max(a.rank, b.rank)
    a, b = _expand(net, a, rank, f"{name}/a"), _expand(net, b, rank, f"{name}/b")
    # The operand already in a non-TF layout leads (it is the convolution path, usually).
    lead = a if not a.is_logical or b.is_logical else b
    ta, tb = net.in_layout(a, lead.layout), net.in_layout(b, lead.layout)
    da, db = net.dtype_name(ta), net.dtype_name(tb)
    if da != db:
        target = da if _RANK.get(da, 0) >= _RANK.get(db, 0) else db
        ta, tb = net.cast(ta, target), net.cast(tb, target)
    return lead, ta, tb


def binary(net: NetworkContext, op: str, a: Any, b: Any, name: str) -> Act:
    """``a <op> b`` with ``op`` an ``ElementWiseOperation`` name (SUM, PROD, DIV, ...)."""
    lead, ta, tb = operands(net, a, b, name)
    layer = net.network.add_elementwise(ta, tb, getattr(net.trt.ElementWiseOperation, op))
    return Act(net.finish(layer, name), lead.perm)


def unary(net: NetworkContext, op: str, x: Act, name: str, precise: bool = False) -> Act:
    """``op(x)`` for a ``UnaryOperation`` name; ``precise`` computes it in FP32."""
    inner, original = precise_in(net, x.tensor, name) if precise else (x.tensor, None)
    layer = net.network.add_unary(inner, getattr(net.trt.UnaryOperation, op))
    if original is None:
        return Act(net.finish(layer, name), x.perm)
    return Act(precise_out(net, net.finish(layer, f"{name}/float32"), original, name), x.perm)


def activation(net: NetworkContext, x: Act, kind: str, name: str, alpha: float | None = None,
               beta: float | None = None) -> Act:
    layer = net.network.add_activation(x.tensor, getattr(net.trt.ActivationType, kind))
    if alpha is not None:
        layer.alpha = float(alpha)
    if beta is not None:
        layer.beta = float(beta)
    return Act(net.finish(layer, name), x.perm)


def precise_in(net: NetworkContext, tensor: Any, name: str) -> tuple[Any, str | None]:
    """``tensor`` in FP32 for an op the policy keeps precise; the dtype to return to."""
    dtype = net.dtype_name(tensor)
    if dtype in FLOAT_NAMES and dtype != "float32":
        return net.cast(tensor, "float32", f"{name}/to_float32"), dtype
    return tensor, None


def precise_out(net: NetworkContext, tensor: Any, original: str | None, name: str) -> Any:
    if original is None:
        return tensor
    return net.cast(tensor, original, name)


def scalar_like(net: NetworkContext, value: float, act: Act, name: str) -> Any:
    """A constant broadcastable against ``act`` (all-ones shape of its rank)."""
    return net.constant_like(np.full((1,) * act.rank, value, np.float32), name, like=act)
