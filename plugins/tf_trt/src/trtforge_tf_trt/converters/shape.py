"""Shape ops: Reshape, Squeeze, ExpandDims, Transpose, ConcatV2, Pack, Unpack, Split, SplitV,
StridedSlice, Slice, Tile, Shape, Fill, Identity/IdentityN/StopGradient/Snapshot,
SpaceToDepth/DepthToSpace."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_tf_trt.impl.shape import concat, slice_static, strided_slice_plan, transpose_free
from trtforge_tf_trt.network import Act, NetworkContext
from trtforge_tf_trt.registry import converter
from trtforge_tf_trt.validators import all_of, const_inputs, static_input


@converter("Identity", "StopGradient", "Snapshot", "PreventGradient", "EnsureShape",
           "CheckNumerics")
def identity(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return inputs[0]


@converter("IdentityN")
def identity_n(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return tuple(inputs)


def _reshape(net: NetworkContext, x: Any, dims: Any, name: str) -> Act:
    tensor = net.logical(x)
    if isinstance(dims, Act):  # a run-time shape (dynamic batch)
        layer = net.network.add_shuffle(tensor)
        layer.set_input(1, net.cast(net.logical(dims), net.native("int64"), f"{name}/dims"))
        return Act(net.finish(layer, name))
    return Act(net.reshape(tensor, [int(d) for d in np.ravel(dims)], name))


@converter("Reshape")
def reshape(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x, dims = inputs
    shape = node.output_shape()
    if isinstance(x, Act) and not isinstance(dims, Act) and shape is not None and None not in shape \
            and tuple(shape) == x.logical_shape():
        return x  # a no-op reshape keeps the layout
    return _reshape(net, x, dims, node.name)


def _output_dims(node: Any) -> list[int] | None:
    shape = node.output_shape()
    if shape is None or sum(1 for d in shape if d is None or d < 0) > 1:
        return None
    return [-1 if d is None or d < 0 else int(d) for d in shape]


def _known_output(node: Any) -> bool | str:
    return True if _output_dims(node) is not None else \
        f"output shape {node.output_shape()} has more than one unknown dimension"


@converter("Squeeze", "ExpandDims", validator=_known_output)
def squeeze_expand(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return _reshape(net, inputs[0], np.array(_output_dims(node)), node.name)


@converter("Transpose", validator=const_inputs(1))
def transpose(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x, order = inputs
    return transpose_free(x, np.ravel(order).tolist())  # no layer: only the layout changes


@converter("ConcatV2", validator=const_inputs(-1))
def concat_v2(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    *values, axis = inputs
    return concat(net, values, int(np.ravel(axis)[0]), node.name)


@converter("Pack")
def pack(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    axis = int(node.attr("axis", 0))
    rank = next(v.rank for v in inputs if isinstance(v, Act)) + 1
    axis = axis % rank
    expanded = []
    for k, value in enumerate(inputs):
        if isinstance(value, Act):
            shape = list(value.logical_shape())
            shape.insert(axis, 1)
            expanded.append(_reshape(net, value, np.array([d if d >= 0 else -1 for d in shape]),
                                     f"{node.name}/expand{k}"))
        else:
            expanded.append(np.expand_dims(np.asarray(value), axis))
    return concat(net, expanded, axis, node.name)


def _slices(net: NetworkContext, x: Act, axis: int, sizes: list[int], name: str,
            squeeze: bool = False) -> tuple[Act, ...]:
    """Pieces of ``x`` along logical ``axis``, in ``x``'s own layout."""
    physical = x.physical_axis(axis)
    shape = list(net.shape(x.tensor))
    outs = []
    start = 0
    for k, size in enumerate(sizes):
        begin = [0] * len(shape)
        begin[physical] = start
        extent = list(shape)
        extent[physical] = size
        piece = slice_static(net, x.tensor, begin, extent, [1] * len(shape),
                             f"{name}/part{k}" if squeeze else (name if k == 0 else f"{name}:{k}"))
        if squeeze:
            del extent[physical]
            piece = net.reshape(piece, extent, name if k == 0 else f"{name}:{k}")
            kept = [a for a in x.layout if a != axis]
            rerank = {a: j for j, a in enumerate(sorted(kept))}
            perm = tuple(rerank[a] for a in kept)
            outs.append(Act(piece, perm if perm != tuple(range(len(perm))) else None))
        else:
            outs.append(Act(piece, x.perm))
        start += size
    return tuple(outs)


def _axis_static(index: int, axis_input: int | None = None, axis_attr: str | None = None) -> Any:
    def check(node: Any) -> bool | str:
        shape = node.input_shape(index)
        if shape is None:
            return "the input's rank is unknown"
        if axis_input is not None:
            value = node.input_const(axis_input)
            if value is None:
                return "the axis must be a constant"
            axis = int(np.ravel(value)[0])
        else:
            axis = int(node.attr(axis_attr, 0))
        if shape[axis % len(shape)] is None:
            return f"the split axis {axis} has a dynamic size"
        if any(d is None for d in shape):
            return f"input shape {shape} is dynamic; slicing needs static shapes"
        return True

    check.__qualname__ = "static_split_axis"
    return check


@converter("Unpack", validator=_axis_static(0, axis_attr="axis"))
def unpack(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x = inputs[0]
    axis = int(node.attr("axis", 0)) % x.rank
    return _slices(net, x, axis, [1] * x.logical_shape()[axis], node.name, squeeze=True)


@converter("Split", validator=_axis_static(1, axis_input=0))
def split(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    axis_value, x = inputs
    axis = int(np.ravel(axis_value)[0]) % x.rank
    count = int(node.attr("num_split"))
    return _slices(net, x, axis, [x.logical_shape()[axis] // count] * count, node.name)


@converter("SplitV", validator=all_of(const_inputs(1), _axis_static(0, axis_input=2)))
def split_v(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x, sizes, axis_value = inputs
    axis = int(np.ravel(axis_value)[0]) % x.rank
    sizes = [int(s) for s in np.ravel(sizes)]
    if -1 in sizes:
        sizes[sizes.index(-1)] = x.logical_shape()[axis] - (sum(sizes) + 1)
    return _slices(net, x, axis, sizes, node.name)


def _strided_ok(node: Any) -> bool | str:
    try:
        _strided_plan(node)
    except (ValueError, TypeError) as exc:
        return f"cannot plan the slice: {exc}"
    return True


def _strided_plan(node: Any) -> tuple[list[int], list[int], list[int], list[int]]:
    shape = node.input_shape(0)
    begin, end, strides = (node.input_const(i) for i in (1, 2, 3))
    return strided_slice_plan(shape, np.ravel(begin), np.ravel(end), np.ravel(strides),
                              int(node.attr("begin_mask", 0)), int(node.attr("end_mask", 0)),
                              int(node.attr("ellipsis_mask", 0)), int(node.attr("new_axis_mask", 0)),
                              int(node.attr("shrink_axis_mask", 0)))


@converter("StridedSlice", validator=all_of(const_inputs(1, 2, 3), static_input(0), _strided_ok))
def strided_slice(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x = inputs[0]
    starts, sizes, steps, out_shape = _strided_plan(node)
    tensor = net.logical(x)
    if list(sizes) == list(net.shape(tensor)) and all(s == 1 for s in steps) and not any(starts):
        sliced = tensor
    else:
        sliced = slice_static(net, tensor, starts, sizes, steps,
                              node.name if list(out_shape) == list(sizes) else f"{node.name}/slice")
    if list(out_shape) != list(net.shape(sliced)):
        sliced = net.reshape(sliced, out_shape, node.name)
    return Act(sliced)


@converter("Slice", validator=all_of(const_inputs(1, 2), static_input(0)))
def slice_op(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x, begin, size = inputs
    shape = x.logical_shape()
    begin = [int(b) for b in np.ravel(begin)]
    size = [shape[k] - begin[k] if int(s) == -1 else int(s) for k, s in enumerate(np.ravel(size))]
    # in the held layout: start and size permuted like the axes
    layout = x.layout
    return Act(slice_static(net, x.tensor, [begin[a] for a in layout], [size[a] for a in layout],
                            [1] * len(shape), node.name), x.perm)


@converter("Tile", validator=all_of(const_inputs(1), static_input(0)))
def tile(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x, multiples = inputs
    multiples = [int(m) for m in np.ravel(multiples)]
    shape = x.logical_shape()
    layout = x.layout
    size = [shape[a] * multiples[a] for a in layout]
    return Act(slice_static(net, x.tensor, [0] * len(shape), size, [1] * len(shape), node.name,
                            mode="WRAP"), x.perm)


@converter("Shape")
def shape_op(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    """A run-time shape (a static one was folded before conversion)."""
    tensor = net.shape_tensor(net.logical(inputs[0]), f"{node.name}/shape")
    return Act(net.cast(tensor, net.native(node.attr("out_type", "int32")), node.name))


@converter("Fill", validator=const_inputs(1))
def fill(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    """``Fill(dims, value)`` with run-time dims: ``value`` broadcast to them."""
    dims, value = inputs
    dims_t = net.cast(net.logical(dims), net.native("int64"), f"{node.name}/dims")
    rank = int(net.shape(dims_t)[0])
    scalar = net.constant(np.full((1,) * rank, np.asarray(value)), f"{node.name}/value",
                          net.compute_dtype(str(np.asarray(value).dtype)))
    layer = net.network.add_slice(scalar, (0,) * rank, (1,) * rank, (0,) * rank)
    layer.set_input(2, dims_t)
    return Act(net.finish(layer, node.name))


def _block_ok(node: Any) -> bool | str:
    if node.attr("data_format", "NHWC") != "NHWC":
        return "only NHWC SpaceToDepth/DepthToSpace are supported"
    return static_input(0)(node)


@converter("SpaceToDepth", "DepthToSpace", validator=_block_ok)
def space_depth(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x = inputs[0]
    n, h, w, c = x.logical_shape()
    b = int(node.attr("block_size"))
    tensor = net.logical(x)
    if node.op == "SpaceToDepth":
        first, final = (n, h // b, b, w // b, b, c), (n, h // b, w // b, b * b * c)
    else:
        first, final = (n, h, w, b, b, c // (b * b)), (n, h * b, w * b, c // (b * b))
    layer = net.network.add_shuffle(tensor)
    layer.reshape_dims = first
    layer.second_transpose = (0, 1, 3, 2, 4, 5)
    moved = net.finish(layer, f"{node.name}/blocks")
    return Act(net.reshape(moved, final, node.name))
