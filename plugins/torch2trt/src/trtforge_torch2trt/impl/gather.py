"""Gathering: index_select, embedding lookups and single-tensor advanced indexing."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.network import NetworkContext


def gather(net: NetworkContext, x: Any, dim: int, index: Any, name: str) -> Any:
    """``x.index_select(dim, index)``; a rank-k index replaces the dim by k dims."""
    x = net.tensor(x, f"{name}/data")
    rank = net.rank(x)
    dim = dim + rank if dim < 0 else dim
    indices = net.tensor(index, f"{name}/index", dtype="int32") if not net.is_itensor(index) else index
    if net.dtype_name(indices) not in ("int32", "int64"):
        indices = net.cast(indices, "int32", f"{name}/index_int")
    layer = net.network.add_gather(x, indices, dim)
    return net.finish(layer, name)
