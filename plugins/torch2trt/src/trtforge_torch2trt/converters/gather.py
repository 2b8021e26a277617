"""Gathers: index_select, embedding, and ``x[idx]`` with one index tensor."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.converters import aten
from trtforge_torch2trt.impl.gather import gather
from trtforge_torch2trt.network import NetworkContext
from trtforge_torch2trt.registry import converter

A = aten()


@converter(A.index_select.default)
def convert_index_select(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return gather(net, args[0], int(args[1]), args[2], node.name)


@converter(A.embedding.default)
def convert_embedding(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return gather(net, args[0], 0, args[1], node.name)


def single_index(node: Any) -> bool | str:
    indices = node.args[1]
    used = [i for i, index in enumerate(indices) if index is not None]
    if len(used) != 1:
        return "advanced indexing with more than one index tensor"
    return True


@converter(A.index.Tensor, validator=single_index)
def convert_index(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    indices = args[1]
    dim = next(i for i, index in enumerate(indices) if index is not None)
    return gather(net, args[0], dim, indices[dim], node.name)
