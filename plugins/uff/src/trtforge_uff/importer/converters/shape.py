"""Shape ops: Concat, Stack, Squeeze, Flatten, Reshape, Transpose, Pad, StridedSlice, Gather.

Constant inputs are computed in numpy (a shape computed from Consts stays a Const), tensors
through shuffle / concatenation / slice / gather layers.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_uff.importer.network import ImportContext, normalize_axis
from trtforge_uff.importer.registry import converter


def _all_constant(ctx: ImportContext, inputs: list[Any]) -> bool:
    return not any(ctx.is_tensor(v) for v in inputs)


def _first_tensor(ctx: ImportContext, inputs: list[Any]) -> Any:
    return next((v for v in inputs if ctx.is_tensor(v)), None)


@converter("Concat")
def concat(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    axis = int(node.get("axis"))
    if _all_constant(ctx, inputs):
        return np.concatenate([np.asarray(v) for v in inputs], axis=axis)
    like = _first_tensor(ctx, inputs)
    tensors = [ctx.tensor(v, ctx.sub(f"input{i}"), like) for i, v in enumerate(inputs)]
    layer = ctx.network.add_concatenation(tensors)
    layer.axis = normalize_axis(axis, len(like.shape))
    return ctx.finish(layer)


@converter("Stack")
def stack(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    axis = int(node.get("axis"))
    if _all_constant(ctx, inputs):
        return np.stack([np.asarray(v) for v in inputs], axis=axis)
    like = _first_tensor(ctx, inputs)
    rank = len(like.shape) + 1
    axis = normalize_axis(axis, rank)
    parts = []
    for i, value in enumerate(inputs):
        t = ctx.tensor(value, ctx.sub(f"input{i}"), like)
        dims = list(ctx.shape(t))
        dims.insert(axis, 1)
        parts.append(ctx.shuffle(t, dims=[0 if d < 0 else d for d in dims], copy_zeros=True,
                                 name=ctx.sub(f"expand{i}")))
    layer = ctx.network.add_concatenation(parts)
    layer.axis = axis
    return ctx.finish(layer)


def _reshape_with_dynamic(ctx: ImportContext, x: Any, keep: list[int], name: str | None = None) -> Any:
    """Reshape to the input axes ``keep`` (in order), dropping the others (size 1)."""
    shape = ctx.shape(x)
    dims = [shape[i] for i in keep]
    dynamic = [k for k, d in enumerate(dims) if d < 0]
    if len(dynamic) > 1:
        raise ctx.error(f"cannot reshape {list(shape)} with more than one dynamic size")
    return ctx.shuffle(x, dims=[-1 if d < 0 else d for d in dims], name=name)


@converter("Squeeze")
def squeeze(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x = inputs[0]
    axes = node.get("axis") or []
    if not ctx.is_tensor(x):
        array = np.asarray(x)
        return np.squeeze(array, axis=tuple(axes) if axes else None)
    shape = ctx.shape(x)
    rank = len(shape)
    drop = {normalize_axis(int(a), rank) for a in axes} if axes else {i for i, d in enumerate(shape) if d == 1}
    for axis in drop:
        if shape[axis] not in (1, -1):
            raise ctx.error(f"cannot squeeze axis {axis} of size {shape[axis]} (shape {list(shape)})")
    return _reshape_with_dynamic(ctx, x, [i for i in range(rank) if i not in drop])


@converter("Flatten")
def flatten(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x = inputs[0]
    axis = int(node.get("axis", 1))
    if not ctx.is_tensor(x):
        array = np.asarray(x)
        return array.reshape(int(np.prod(array.shape[:axis])), -1)
    shape = ctx.shape(x)
    head, tail = shape[:axis], shape[axis:]
    if any(d < 0 for d in tail):
        raise ctx.error(f"cannot flatten {list(shape)} from axis {axis}: a flattened size is dynamic")
    if any(d < 0 for d in head):
        return ctx.shuffle(x, dims=[-1, int(np.prod(tail))])
    return ctx.shuffle(x, dims=[int(np.prod(head)), int(np.prod(tail))])


@converter("Reshape")
def reshape(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x, shape = inputs
    dims = [int(d) for d in ctx.const_input(shape, "shape").reshape(-1)]
    if not ctx.is_tensor(x):
        return np.asarray(x).reshape(dims)
    return ctx.shuffle(x, dims=dims)


@converter("Transpose")
def transpose(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x, perm = inputs
    order = [int(p) for p in ctx.const_input(perm, "perm").reshape(-1)]
    if not ctx.is_tensor(x):
        return np.transpose(np.asarray(x), order)
    return ctx.shuffle(x, perm=order)


@converter("Pad")
def pad(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x, paddings = inputs
    pads = ctx.const_input(paddings, "paddings").astype(np.int64).reshape(-1, 2)
    mode = node.get("mode", "constant")
    if mode not in ("constant", "CONSTANT"):
        raise ctx.error(f"pad mode {mode!r} is not supported (constant only)")
    if not ctx.is_tensor(x):
        return np.pad(np.asarray(x), pads.tolist())
    shape = ctx.shape(x)
    if len(pads) != len(shape):
        raise ctx.error(f"paddings give {len(pads)} axes, the input has {len(shape)}")
    if any(d < 0 for d, (lo, hi) in zip(shape, pads) if lo or hi) or any(d < 0 for d in shape):
        raise ctx.error(f"padding an input with dynamic sizes ({list(shape)}) is not supported")
    start = tuple(-int(lo) for lo, _ in pads)
    size = tuple(int(d + lo + hi) for d, (lo, hi) in zip(shape, pads))
    layer = ctx.network.add_slice(x, start, size, (1,) * len(shape))
    modes = getattr(ctx.trt, "SampleMode", None) or ctx.trt.SliceMode  # SliceMode before TensorRT 8.6
    layer.mode = modes.FILL
    return ctx.finish(layer)


def _slice_plan(node: Any, shape: tuple[int, ...], begin: list[int], end: list[int],
                strides: list[int]) -> tuple[list[int], list[int], list[int], list[int]]:
    """TF StridedSlice semantics -> per-axis (start, size, stride) and the axes to shrink."""
    if node.get("ellipsis_mask", 0) or node.get("new_axis_mask", 0):
        raise ValueError("ellipsis_mask and new_axis_mask are not supported")
    begin_mask, end_mask = int(node.get("begin_mask", 0)), int(node.get("end_mask", 0))
    shrink = int(node.get("shrink_axis_mask", 0))
    starts, sizes, steps, shrunk = [], [], [], []
    for axis, dim in enumerate(shape):
        if axis >= len(begin):
            starts.append(0), sizes.append(dim), steps.append(1)
            continue
        if dim < 0:
            raise ValueError(f"axis {axis} has a dynamic size")
        step = int(strides[axis])
        if shrink >> axis & 1:
            index = int(begin[axis]) + (dim if begin[axis] < 0 else 0)
            starts.append(index), sizes.append(1), steps.append(1), shrunk.append(axis)
            continue
        first = None if begin_mask >> axis & 1 else int(begin[axis])
        last = None if end_mask >> axis & 1 else int(end[axis])
        picked = range(dim)[slice(first, last, step)]
        starts.append(picked.start if len(picked) else 0)
        sizes.append(len(picked))
        steps.append(step)
    return starts, sizes, steps, shrunk


@converter("StridedSlice")
def strided_slice(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x = inputs[0]
    begin, end, strides = (list(ctx.const_input(v, w).reshape(-1)) for v, w in
                           zip(inputs[1:], ("begin", "end", "strides")))
    shape = ctx.shape(x) if ctx.is_tensor(x) else np.asarray(x).shape
    try:
        starts, sizes, steps, shrunk = _slice_plan(node, tuple(shape), begin, end, strides)
    except ValueError as exc:
        raise ctx.error(f"cannot slice {list(shape)}: {exc}") from None
    if not ctx.is_tensor(x):
        index = np.ix_(*[s + t * np.arange(n) for s, n, t in zip(starts, sizes, steps)])
        out = np.asarray(x)[index]
        return out.reshape([d for i, d in enumerate(out.shape) if i not in shrunk])
    layer = ctx.network.add_slice(x, tuple(starts), tuple(sizes), tuple(steps))
    if not shrunk:
        return ctx.finish(layer)
    sliced = ctx.finish(layer, ctx.sub("slice"))
    return ctx.shuffle(sliced, dims=[d for i, d in enumerate(sizes) if i not in shrunk])


@converter("Gather")
def gather(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    params, indices = inputs
    axis = int(node.get("axis", 0))
    if _all_constant(ctx, inputs):
        return np.take(np.asarray(params), np.asarray(indices), axis=axis)
    data = ctx.tensor(params, ctx.sub("params"))
    if ctx.is_tensor(indices):
        index = indices
    else:
        index = ctx.constant(np.asarray(indices).astype(np.int32), ctx.sub("indices"))
    layer = ctx.network.add_gather(data, index, normalize_axis(axis, len(data.shape)))
    return ctx.finish(layer)
