"""Views and layout: view/reshape, permute, (un)squeeze, expand, cat, split, slice, select,
as_strided (static), full_like, identities (clone, alias), tuple access, and symbolic sizes
(``x.size(0)`` and arithmetic)."""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from trtforge_torch2trt.converters import arg, aten
from trtforge_torch2trt.impl import shape as S
from trtforge_torch2trt.impl.cast import identity
from trtforge_torch2trt.impl.elementwise import binary
from trtforge_torch2trt.network import TORCH_TO_TRT, NetworkContext, ShapeScalar
from trtforge_torch2trt.registry import converter

A = aten()


@converter(A.view.default, A.reshape.default, A._unsafe_view.default)
def convert_view(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return S.reshape(net, args[0], list(args[1]), node.name)


@converter(A.permute.default)
def convert_permute(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return S.permute(net, args[0], args[1], node.name)


@converter(A.t.default)
def convert_t(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    if net.rank(args[0]) < 2:
        return identity(net, args[0], node.name)
    return S.permute(net, args[0], [1, 0], node.name)


@converter(A.transpose.int)
def convert_transpose(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    rank = net.rank(args[0])
    order = list(range(rank))
    a, b = S.norm_dim(args[1], rank), S.norm_dim(args[2], rank)
    order[a], order[b] = order[b], order[a]
    return S.permute(net, args[0], order, node.name)


@converter(A.unsqueeze.default)
def convert_unsqueeze(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return S.unsqueeze(net, args[0], int(args[1]), node.name)


@converter(A.squeeze.dims, A.squeeze.dim, A.squeeze.default)
def convert_squeeze(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    x = args[0]
    if len(args) < 2:
        dims = list(range(net.rank(x)))
    else:
        dims = [args[1]] if isinstance(args[1], int) else list(args[1])
    return S.squeeze(net, x, dims, node.name)


@converter(A.expand.default)
def convert_expand(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return S.expand(net, args[0], list(args[1]), node.name)


@converter(A.clone.default, A.alias.default, A.contiguous.default, A.detach.default,
           A.lift_fresh_copy.default)
def convert_identity(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return identity(net, args[0], node.name)


@converter(A.cat.default)
def convert_cat(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return S.concat(net, list(args[0]), int(arg(args, kwargs, 1, "dim", 0)), node.name)


@converter(A.split_with_sizes.default)
def convert_split_with_sizes(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return S.split(net, args[0], list(args[1]), int(arg(args, kwargs, 2, "dim", 0)), node.name)


@converter(A.split.Tensor)
def convert_split(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    x, size, dim = args[0], int(args[1]), int(arg(args, kwargs, 2, "dim", 0))
    total = net.shape(x)[S.norm_dim(dim, net.rank(x))]
    if total < 0:
        raise net.error("split along a dynamic dimension is not supported")
    sizes = [min(size, total - s) for s in range(0, total, size)]
    return S.split(net, x, sizes, dim, node.name)


def static_slice(node: Any) -> bool | str:
    for value in node.args[2:4]:
        if value is not None and not isinstance(value, int):
            return "slice bounds computed at run time"
    return True


@converter(A.slice.Tensor, validator=static_slice)
def convert_slice(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return S.slice_axis(net, args[0], int(arg(args, kwargs, 1, "dim", 0)), arg(args, kwargs, 2, "start"),
                        arg(args, kwargs, 3, "end"), int(arg(args, kwargs, 4, "step", 1)), node.name)


@converter(A.select.int)
def convert_select(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return S.select_index(net, args[0], int(args[1]), int(args[2]), node.name)


@converter(operator.getitem)
def convert_getitem(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    value = args[0][args[1]]
    if value is None:
        raise net.error("the result of this output is not converted")
    return value


@converter(A.sym_size.int)
def convert_sym_size(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    size = S.dim_size(net, args[0], int(args[1]), node.name)
    return size if isinstance(size, int) else ShapeScalar(size)


def _symbolic(op: str) -> Any:
    def convert(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        a, b = args
        if not isinstance(a, ShapeScalar) and not isinstance(b, ShapeScalar):
            return {"SUM": operator.add, "SUB": operator.sub, "PROD": operator.mul,
                    "FLOOR_DIV": operator.floordiv}[op](a, b)
        x = a.tensor if isinstance(a, ShapeScalar) else net.constant([int(a)], f"{node.name}/a", "int64")
        y = b.tensor if isinstance(b, ShapeScalar) else net.constant([int(b)], f"{node.name}/b", "int64")
        x, y = net.cast(x, "int64", f"{node.name}/x64"), net.cast(y, "int64", f"{node.name}/y64")
        return ShapeScalar(binary(net, op, x, y, node.name))

    convert.__name__ = f"convert_symbolic_{op.lower()}"
    convert.__qualname__ = convert.__name__
    return convert


convert_symbolic_add = converter(operator.add)(_symbolic("SUM"))
convert_symbolic_sub = converter(operator.sub)(_symbolic("SUB"))
convert_symbolic_mul = converter(operator.mul)(_symbolic("PROD"))
convert_symbolic_floordiv = converter(operator.floordiv)(_symbolic("FLOOR_DIV"))


def _dense_strides(shape: Any, strides: Any) -> bool:
    """Whether a tensor with these strides covers its storage exactly once (a permuted layout)."""
    expected = 1
    for size, stride in sorted(zip(shape, strides), key=lambda p: p[1]):
        if size == 1:
            continue
        if stride != expected:
            return False
        expected *= size
    return True


def static_as_strided(node: Any) -> bool | str:
    source = node.args[0].meta.get("val") if hasattr(node.args[0], "meta") else None
    if source is None:
        return "the input's layout is unknown"
    sizes, strides = node.args[1], node.args[2]
    if not all(isinstance(v, int) for v in [*source.shape, *sizes, *strides]):
        return "as_strided with sizes computed at run time"
    if not _dense_strides(list(source.shape), list(source.stride())):
        return "as_strided over a tensor that does not cover its storage exactly once"
    offset = node.args[3] if len(node.args) > 3 and node.args[3] is not None else 0
    if offset < source.storage_offset():
        return "as_strided starting before the input's storage"
    span = offset + sum((s - 1) * st for s, st in zip(sizes, strides) if s > 0)
    if source.numel() and span - source.storage_offset() >= source.numel():
        return "as_strided reaching outside the input's storage"
    return True


@converter(A.as_strided.default, validator=static_as_strided)
def convert_as_strided(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    """``x.as_strided(size, stride, offset)`` (e.g. pooling a permuted tensor in convnext and
    swin): the input laid out in its memory order, flattened, then one gather of the storage
    positions the view reads, computed here (static shapes only)."""
    source = node.args[0].meta["val"]
    sizes, strides = list(args[1]), list(args[2])
    offset = int(arg(args, kwargs, 3, "storage_offset", 0) or 0) - int(source.storage_offset())
    memory_order = sorted(range(source.dim()), key=lambda d: -source.stride()[d])
    flat = S.reshape(net, S.permute(net, args[0], memory_order, f"{node.name}/memory_order"),
                     [int(source.numel())], f"{node.name}/storage")
    positions = np.full(sizes, offset, dtype=np.int64)
    for axis, (size, stride) in enumerate(zip(sizes, strides)):
        view = [1] * len(sizes)
        view[axis] = size
        positions = positions + (np.arange(size, dtype=np.int64) * stride).reshape(view)
    indices = net.constant(positions.astype(np.int32), f"{node.name}/positions", "int32")
    return net.finish(net.network.add_gather(flat, indices, 0), node.name)


@converter(A.full_like.default)
def convert_full_like(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    """``torch.full_like(x, value)``: the value broadcast to ``x``'s (possibly dynamic) shape."""
    x = args[0]
    dtype = kwargs.get("dtype")
    dtype = TORCH_TO_TRT[str(dtype)] if dtype is not None else net.dtype_name(x)
    if dtype in ("float32", "float16", "bfloat16"):
        dtype = None  # the precision policy's compute type, as for every float constant
    rank = net.rank(x)
    value = net.constant(np.full([1] * rank, args[1]) if rank else args[1], f"{node.name}/value", dtype)
    return S.expand(net, value, S.runtime_dims(net, x, node.name), node.name)
