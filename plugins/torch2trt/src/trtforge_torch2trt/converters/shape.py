"""Views and layout: view/reshape, permute, (un)squeeze, expand, cat, split, slice, select,
identities (clone, alias), tuple access, and symbolic sizes (``x.size(0)`` and arithmetic)."""
from __future__ import annotations

import operator
from typing import Any

from trtforge_torch2trt.converters import arg, aten
from trtforge_torch2trt.impl import shape as S
from trtforge_torch2trt.impl.cast import identity
from trtforge_torch2trt.impl.elementwise import binary
from trtforge_torch2trt.network import NetworkContext, ShapeScalar
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
