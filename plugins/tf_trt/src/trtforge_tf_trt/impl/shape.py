"""Shape-moving layers: concat in any layout, static slices (with fill/reflect/wrap modes),
reshapes in TensorFlow's order, gathers."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from trtforge_tf_trt.network import Act, NetworkContext


def concat(net: NetworkContext, values: Sequence[Any], axis: int, name: str) -> Act:
    """TensorFlow ``concat`` along logical ``axis``: in the inputs' shared layout when they
    have one (an NHWC channel concat of NCHW-held tensors is a concat on axis 1)."""
    acts = [v for v in values if isinstance(v, Act)]
    rank = acts[0].rank
    layouts = {a.layout for a in acts}
    layout = acts[0].layout if len(layouts) == 1 else tuple(range(rank))
    lead = Act(acts[0].tensor, layout if layout != tuple(range(rank)) else None)
    tensors = []
    dtype = net.dtype_name(acts[0].tensor)
    for k, value in enumerate(values):
        if isinstance(value, Act):
            tensor = net.in_layout(value, layout)
            tensors.append(net.cast(tensor, dtype) if net.dtype_name(tensor) != dtype else tensor)
        else:
            array = np.asarray(value)
            if layout != tuple(range(rank)):
                array = np.transpose(array, layout)
            tensors.append(net.constant_like(array, f"{name}/input{k}", dtype=dtype))
    if len(tensors) == 1:
        return Act(tensors[0], lead.perm)
    layer = net.network.add_concatenation(tensors)
    layer.axis = lead.physical_axis(axis) if lead.perm is not None else axis % rank
    return Act(net.finish(layer, name), lead.perm)


def slice_static(net: NetworkContext, tensor: Any, start: Sequence[int], size: Sequence[int],
                 stride: Sequence[int], name: str, mode: str | None = None, fill: Any = None) -> Any:
    """``ISliceLayer`` with static start/size/stride; ``mode`` a ``SampleMode`` name."""
    layer = net.network.add_slice(tensor, tuple(int(s) for s in start), tuple(int(s) for s in size),
                                  tuple(int(s) for s in stride))
    if mode is not None:
        layer.mode = getattr(net.trt.SampleMode, mode)
    if fill is not None:
        layer.set_input(4, fill)
    return net.finish(layer, name)


def reshape_logical(net: NetworkContext, value: Any, dims: Sequence[int], name: str) -> Act:
    """TensorFlow ``reshape`` (``-1`` infers one dimension)."""
    tensor = net.logical(value, like=None)
    return Act(net.reshape(tensor, dims, name))


def transpose_free(act: Act, order: Sequence[int]) -> Act:
    """TensorFlow ``transpose(x, order)`` as a new meaning of the same held tensor: the
    result's logical axis ``i`` is the input's ``order[i]`` (no layer at all)."""
    order = [int(o) % act.rank for o in order]
    perm = tuple(order.index(axis) for axis in act.layout)
    return Act(act.tensor, None if perm == tuple(range(len(perm))) else perm)


def gather(net: NetworkContext, data: Any, indices: Any, axis: int, name: str) -> Act:
    """TensorFlow ``gather`` (batch_dims 0) on the logical tensor."""
    data_t = net.logical(data, f"{name}/params") if isinstance(data, Act) else \
        net.constant(np.asarray(data), f"{name}/params")
    if isinstance(indices, Act):
        index_t = net.cast(net.logical(indices), "int32", f"{name}/indices_int32")
    else:
        array = np.asarray(indices).astype(np.int64)
        size = int(net.shape(data_t)[axis])
        if size >= 0:
            array = np.where(array < 0, array + size, array)
        index_t = net.constant(array.astype(np.int32), f"{name}/indices", "int32")
    rank = len(data_t.shape)
    layer = net.network.add_gather(data_t, index_t, int(axis) % rank)
    return Act(net.finish(layer, name))


def strided_slice_plan(shape: Sequence[int], begin: Sequence[int], end: Sequence[int],
                       strides: Sequence[int], begin_mask: int, end_mask: int, ellipsis_mask: int,
                       new_axis_mask: int, shrink_mask: int
                       ) -> tuple[list[int], list[int], list[int], list[int]]:
    """TensorFlow's ``strided_slice`` on a static ``shape`` as (start, size, stride) per input
    axis plus the output shape (new axes inserted, shrunk axes removed)."""
    index: list[Any] = []
    for i in range(len(begin)):
        if ellipsis_mask >> i & 1:
            index.append(Ellipsis)
        elif new_axis_mask >> i & 1:
            index.append(None)
        elif shrink_mask >> i & 1:
            index.append(int(begin[i]))
        else:
            b = None if begin_mask >> i & 1 else int(begin[i])
            e = None if end_mask >> i & 1 else int(end[i])
            index.append(slice(b, e, int(strides[i])))
    if Ellipsis not in index:
        index.append(Ellipsis)
    at = index.index(Ellipsis)
    named = sum(1 for x in index if x is not None and x is not Ellipsis)
    index[at:at + 1] = [slice(None)] * (len(shape) - named)
    starts, sizes, steps, out_shape = [], [], [], []
    axis = 0
    for item in index:
        if item is None:
            out_shape.append(1)
            continue
        dim = int(shape[axis])
        if isinstance(item, int):
            position = item + dim if item < 0 else item
            if not 0 <= position < dim:
                raise ValueError(f"index {item} is out of range for a dimension of {dim}")
            starts.append(position)
            sizes.append(1)
            steps.append(1)
        else:
            start, stop, step = item.indices(dim)
            count = len(range(start, stop, step))
            starts.append(start if count else 0)
            sizes.append(count)
            steps.append(step)
            out_shape.append(count)
        axis += 1
    return starts, sizes, steps, out_shape
