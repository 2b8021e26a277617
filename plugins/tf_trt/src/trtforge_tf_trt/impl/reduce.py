"""Reductions over TensorFlow axes in any layout (axes mapped onto the held layout)."""
from __future__ import annotations

from typing import Sequence

from trtforge_tf_trt.impl.elementwise import precise_in, precise_out
from trtforge_tf_trt.network import Act, NetworkContext


def reduce(net: NetworkContext, x: Act, op: str, axes: Sequence[int], keep_dims: bool, name: str,
           precise: bool = False) -> Act:
    """``op`` is a ``ReduceOperation`` name (SUM, AVG, MAX, MIN, PROD); ``precise`` (sums and
    means) computes in FP32 under a reduced-precision policy."""
    rank = x.rank
    logical = sorted({int(a) % rank for a in axes})
    physical = [x.physical_axis(a) for a in logical]
    mask = 0
    for axis in physical:
        mask |= 1 << axis
    inner, original = precise_in(net, x.tensor, name) if precise else (x.tensor, None)
    layer = net.network.add_reduce(inner, getattr(net.trt.ReduceOperation, op), mask, bool(keep_dims))
    out = net.finish(layer, f"{name}/float32" if original else name)
    out = precise_out(net, out, original, name)
    if keep_dims:
        return Act(out, x.perm)
    kept = [axis for axis in x.layout if axis not in logical]  # logical axes, in held order
    rerank = {axis: k for k, axis in enumerate(sorted(kept))}
    return Act(out, tuple(rerank[a] for a in kept) or None)
