"""Layers that move, select or describe data: Shuffle, Concatenation, Slice, Squeeze,
Unsqueeze, Padding, Gather, Shape, Identity, Cast, Constant, Fill and Assertion.

Shape tensors are ordinary int tensors here, so networks with dynamic shapes (Shape ->
Gather -> Concat -> Shuffle, as the ONNX parser emits them) run with concrete values.
"""
from __future__ import annotations

from typing import Any

from trtforge.errors import CheckError
from trtforge.reference.base import LayerView, axes_from_mask, normalize_axis, register
from trtforge.reference.dtypes import torch_dtype


def _ints(tensor: Any) -> list[int]:
    return [int(v) for v in tensor.reshape(-1).tolist()]


@register("SHUFFLE")
def shuffle(layer: LayerView, inputs: list[Any]) -> list[Any]:
    x = inputs[0]
    first = layer.attr("first_transpose", list(range(8)))[: x.dim()]
    x = x.permute(tuple(first))
    dims = None
    if len(inputs) > 1 and inputs[1] is not None:
        dims = _ints(inputs[1])
    elif layer.attrs.get("reshape_dims") is not None:
        dims = [int(d) for d in layer.attrs["reshape_dims"]]
    if dims is not None:
        if layer.attr("zero_is_placeholder", True):
            dims = [x.shape[i] if d == 0 else d for i, d in enumerate(dims)]
        x = x.reshape(dims)
    second = layer.attr("second_transpose", list(range(8)))[: x.dim()]
    return [x.permute(tuple(second)).contiguous()]


@register("CONCATENATION")
def concatenation(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch

    parts = [t for t in inputs if t is not None]
    dtype = parts[0].dtype
    axis = normalize_axis(int(layer.attr("axis", 0)), parts[0].dim())
    return [torch.cat([p.to(dtype) for p in parts], dim=axis)]


def _sample_indices(mode: str, index: Any, size: int) -> tuple[Any, Any]:
    """Map raw slice indices into ``[0, size)`` per SampleMode; also the in-bounds mask."""
    import torch

    inside = (index >= 0) & (index < size)
    if mode == "WRAP":
        return torch.remainder(index, size), None
    if mode == "CLAMP":
        return torch.clamp(index, 0, size - 1), None
    if mode == "FILL":
        return torch.clamp(index, 0, max(size - 1, 0)), inside
    if mode == "REFLECT":
        if size == 1:
            return torch.zeros_like(index), None
        period = 2 * (size - 1)
        folded = torch.remainder(index, period)
        return torch.where(folded >= size, period - folded, folded), None
    if not bool(inside.all()):
        raise CheckError("slice reads out of bounds in STRICT_BOUNDS mode")
    return index, None


@register("SLICE")
def slice_(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch

    x = inputs[0]
    rank = x.dim()

    def given(j: int, attr: str) -> list[int] | None:
        if len(inputs) > j and inputs[j] is not None:
            return _ints(inputs[j])
        value = layer.attrs.get(attr)
        return [int(v) for v in value] if value is not None else None

    start, size, stride = given(1, "start"), given(2, "shape"), given(3, "stride")
    axes = given(5, "axes")
    if axes is None:
        axes = list(range(rank))
    axes = [normalize_axis(a, rank) for a in axes]
    start = start or [0] * len(axes)
    stride = stride or [1] * len(axes)
    size = size if size is not None else [x.shape[a] for a in axes]
    mode = layer.attr("mode", "STRICT_BOUNDS")
    fill = None
    if mode == "FILL":
        fill = inputs[4].reshape(()) if len(inputs) > 4 and inputs[4] is not None else 0
    out = x
    mask = None
    for k, axis in enumerate(axes):
        index = start[k] + torch.arange(size[k], dtype=torch.int64) * stride[k]
        mapped, inside = _sample_indices(mode, index, x.shape[axis])
        if x.shape[axis] == 0:
            shape = list(out.shape)
            shape[axis] = size[k]
            out = torch.zeros(shape, dtype=out.dtype)
        else:
            out = torch.index_select(out, axis, mapped)
        if inside is not None:
            view = [1] * rank
            view[axis] = size[k]
            inside = inside.reshape(view)
            mask = inside if mask is None else mask & inside
    if mask is not None:
        out = torch.where(mask, out, torch.as_tensor(fill, dtype=out.dtype))
    return [out]


def _axes_input(layer: LayerView, inputs: list[Any]) -> list[int]:
    if len(inputs) < 2 or inputs[1] is None:
        raise layer.fail("has no axes input")
    return _ints(inputs[1])


@register("SQUEEZE")
def squeeze(layer: LayerView, inputs: list[Any]) -> list[Any]:
    x = inputs[0]
    axes = sorted({normalize_axis(a, x.dim()) for a in _axes_input(layer, inputs)})
    shape = [d for i, d in enumerate(x.shape) if i not in axes]
    return [x.reshape(shape)]


@register("UNSQUEEZE")
def unsqueeze(layer: LayerView, inputs: list[Any]) -> list[Any]:
    x = inputs[0]
    raw = _axes_input(layer, inputs)
    rank = x.dim() + len(raw)
    axes = {normalize_axis(a, rank) for a in raw}
    dims = iter(x.shape)
    shape = [1 if i in axes else next(dims) for i in range(rank)]
    return [x.reshape(shape)]


@register("PADDING")
def padding(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch.nn.functional as F

    from trtforge.reference.padding import torch_pad_list

    pre = layer.attr("pre_padding_nd", [])
    post = layer.attr("post_padding_nd", [])
    # Padding applies to the innermost dimensions; negative values crop.
    return [F.pad(inputs[0], torch_pad_list(pre, post))]


@register("GATHER")
def gather(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch

    data, indices = inputs[0], inputs[1].long()
    mode = layer.attr("mode", "DEFAULT")
    batch = int(layer.attr("num_elementwise_dims", 0))
    if mode == "ELEMENT":
        axis = normalize_axis(int(layer.attr("axis", 0)), data.dim())
        indices = torch.where(indices < 0, indices + data.shape[axis], indices)
        return [torch.gather(data, axis, indices)]
    if mode == "ND":
        return [_gather_nd(data, indices, batch)]
    axis = normalize_axis(int(layer.attr("axis", 0)), data.dim())
    indices = torch.where(indices < 0, indices + data.shape[axis], indices)
    if batch == 0:
        flat = torch.index_select(data, axis, indices.reshape(-1))
        shape = list(data.shape[:axis]) + list(indices.shape) + list(data.shape[axis + 1:])
        return [flat.reshape(shape)]
    # num_elementwise_dims == 1: data and indices share the leading (batch) dimension.
    rows = [torch.index_select(data[b], axis - 1, indices[b].reshape(-1)).reshape(
        list(data.shape[1:axis]) + list(indices.shape[1:]) + list(data.shape[axis + 1:]))
        for b in range(data.shape[0])]
    return [torch.stack(rows)]


def _gather_nd(data: Any, indices: Any, batch: int) -> Any:
    import torch

    depth = indices.shape[-1]
    batch_shape = list(data.shape[:batch])
    nb = 1
    for d in batch_shape:
        nb *= d
    data_b = data.reshape([nb] + list(data.shape[batch:]))
    idx_b = indices.reshape([nb, -1, depth])
    rows = []
    for b in range(nb):
        sub = data_b[b]
        picked = [sub[tuple(int(v) for v in row)] for row in idx_b[b]]
        rows.append(torch.stack(picked) if picked else sub.new_zeros((0,) + tuple(sub.shape[depth:])))
    out = torch.stack(rows)
    return out.reshape(list(indices.shape[:-1]) + list(data.shape[batch + depth:]))


@register("SHAPE")
def shape(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch

    return [torch.tensor(list(inputs[0].shape), dtype=torch.int64)]


@register("IDENTITY")
def identity(layer: LayerView, inputs: list[Any]) -> list[Any]:
    return [inputs[0]]


@register("CAST")
def cast(layer: LayerView, inputs: list[Any]) -> list[Any]:
    x = inputs[0]
    target = torch_dtype(layer.output_dtype())
    if target is None:
        raise layer.fail(f"cast to {layer.output_dtype()} is not modelled")
    if x.is_floating_point() and not target.is_floating_point and target != x.dtype:
        import torch

        if target == torch.bool:
            return [x != 0]
        # Float -> int truncates toward zero; the executor saturates to the target range.
        return [torch.trunc(x)]
    return [x.to(target)]


@register("CONSTANT")
def constant(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch

    values = layer.weights("weights")
    shape = [int(d) for d in layer.attr("shape", [])]
    if values is None:
        return [torch.zeros(shape, dtype=torch_dtype(layer.output_dtype()))]
    return [values.reshape(shape)]


@register("FILL")
def fill(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch

    operation = layer.attr("operation", "LINSPACE")
    if operation != "LINSPACE":
        raise layer.fail(f"fill {operation} draws random numbers, which a reference cannot "
                         f"reproduce", hint="compare networks without random fills")
    if len(inputs) > 0 and inputs[0] is not None:
        shape = _ints(inputs[0])
    else:
        shape = [int(d) for d in layer.attr("shape", [])]
    alpha = inputs[1].reshape(()).double() if len(inputs) > 1 and inputs[1] is not None else \
        torch.tensor(float(layer.attr("alpha", 0.0)), dtype=torch.float64)
    if len(inputs) > 2 and inputs[2] is not None:
        beta = inputs[2].reshape(-1).double()
    else:
        raw = layer.attrs.get("beta")
        beta = torch.tensor([float(raw)] * len(shape) if isinstance(raw, (int, float)) else
                            [float(v) for v in (raw or [0.0] * len(shape))], dtype=torch.float64)
    out = torch.full(shape, 0.0, dtype=torch.float64) + alpha
    for k in range(len(shape)):
        view = [1] * len(shape)
        view[k] = shape[k]
        out = out + beta[k] * torch.arange(shape[k], dtype=torch.float64).reshape(view)
    return [out]


@register("ASSERTION")
def assertion(layer: LayerView, inputs: list[Any]) -> list[Any]:
    if not bool(inputs[0].bool().all()):
        raise CheckError(f"assertion layer {layer.name!r} failed: {layer.attr('message', '')}",
                         hint="the inputs violate a condition the network checks at run time")
    return []


@register("CUMULATIVE")
def cumulative(layer: LayerView, inputs: list[Any]) -> list[Any]:
    """Running sum along the axis given as a 0-d tensor (ONNX CumSum): ``exclusive`` leaves the
    element itself out, ``reverse`` runs from the end."""
    import torch

    x = inputs[0]
    op = layer.attr("op", "SUM")
    if op != "SUM":
        raise layer.fail(f"cumulative operation {op}")
    axis = normalize_axis(_ints(inputs[1])[0] if len(inputs) > 1 and inputs[1] is not None else 0, x.dim())
    reverse, exclusive = bool(layer.attr("reverse", False)), bool(layer.attr("exclusive", False))
    y = x.flip(axis) if reverse else x
    out = torch.cumsum(y, dim=axis, dtype=x.dtype)
    if exclusive:  # shift by one: the first element's sum is 0
        head = torch.zeros_like(out.narrow(axis, 0, 1))
        out = torch.cat([head, out.narrow(axis, 0, x.shape[axis] - 1)], axis)
    return [(out.flip(axis) if reverse else out).contiguous()]
