"""Shape manipulation: sizes, reshape (static or through shape tensors), permute, squeeze,
expand, slice/select/split, concat."""
from __future__ import annotations

from typing import Any, Sequence

from trtforge_torch2trt.network import NetworkContext, ShapeScalar


def norm_dim(dim: int, rank: int) -> int:
    return dim + rank if dim < 0 else dim


def dim_size(net: NetworkContext, x: Any, axis: int, name: str) -> Any:
    """``x.size(axis)``: an int if static, else a 1-element INT64 tensor."""
    axis = norm_dim(axis, net.rank(x))
    static = net.shape(x)[axis]
    if static >= 0:
        return static
    shape = net.shape_tensor(x, f"{name}/shape")
    index = net.constant([axis], f"{name}/axis", "int32")
    layer = net.network.add_gather(shape, index, 0)
    return net.finish(layer, name)


def expand_rank(net: NetworkContext, x: Any, rank: int, name: str) -> Any:
    """Prepend size-1 dims so ``x`` has ``rank`` dims (works for dynamic shapes)."""
    have = net.rank(x)
    if have >= rank:
        return x
    shape = net.shape(x)
    if all(d >= 0 for d in shape):
        return net.reshape_static(x, (1,) * (rank - have) + shape, name)
    dims = net.dims_tensor([1] * (rank - have) + [ShapeScalar(_dim(net, x, i, name)) for i in range(have)],
                           name)
    layer = net.network.add_shuffle(x)
    layer.set_input(1, dims)
    layer.zero_is_placeholder = False
    return net.finish(layer, name)


def _dim(net: NetworkContext, x: Any, axis: int, name: str) -> Any:
    return dim_size(net, x, axis, f"{name}/d{axis}")


def reshape(net: NetworkContext, x: Any, dims: Sequence[Any], name: str) -> Any:
    """``x.view(dims)``; ``dims`` may hold ints, -1, and :class:`ShapeScalar` sizes."""
    if all(not isinstance(d, ShapeScalar) and not net.is_itensor(d) for d in dims):
        return net.reshape_static(x, [int(d) for d in dims], name)
    # Inputs first, then the layer: networks are read back (snapshots) in layer order.
    dims_tensor = net.dims_tensor(list(dims), name)
    layer = net.network.add_shuffle(x)
    layer.zero_is_placeholder = False
    layer.set_input(1, dims_tensor)
    return net.finish(layer, name)


def permute(net: NetworkContext, x: Any, order: Sequence[int], name: str) -> Any:
    rank = net.rank(x)
    layer = net.network.add_shuffle(x)
    layer.first_transpose = tuple(norm_dim(int(d), rank) for d in order)
    return net.finish(layer, name)


def runtime_dims(net: NetworkContext, x: Any, name: str) -> list[Any]:
    """Every dim of ``x``: ints where static, ShapeScalars where dynamic."""
    out: list[Any] = []
    for axis, d in enumerate(net.shape(x)):
        out.append(d if d >= 0 else ShapeScalar(dim_size(net, x, axis, f"{name}/d{axis}")))
    return out


def unsqueeze(net: NetworkContext, x: Any, dim: int, name: str) -> Any:
    rank = net.rank(x)
    dim = norm_dim(dim, rank + 1)
    dims = runtime_dims(net, x, name)
    return reshape(net, x, dims[:dim] + [1] + dims[dim:], name)


def squeeze(net: NetworkContext, x: Any, dims: Sequence[int], name: str) -> Any:
    rank = net.rank(x)
    shape = net.shape(x)
    drop = {norm_dim(d, rank) for d in dims if shape[norm_dim(d, rank)] == 1}
    kept = [d for i, d in enumerate(runtime_dims(net, x, name)) if i not in drop]
    return reshape(net, x, kept, name)


def expand(net: NetworkContext, x: Any, sizes: Sequence[Any], name: str) -> Any:
    """Broadcast ``x`` to ``sizes`` (-1 keeps a dim) with a stride-0 slice."""
    x = expand_rank(net, x, len(sizes), f"{name}/rank")
    have = runtime_dims(net, x, name)
    target = [h if (isinstance(s, int) and s == -1) else s for s, h in zip(sizes, have)]
    rank = len(target)
    static = all(isinstance(d, int) for d in target) and all(d >= 0 for d in net.shape(x))
    strides = [0 if (isinstance(h, int) and h == 1 and not (isinstance(t, int) and t == 1)) else 1
               for h, t in zip(have, target)]
    if static:
        layer = net.network.add_slice(x, (0,) * rank, tuple(int(t) for t in target), tuple(strides))
        return net.finish(layer, name)
    size = net.dims_tensor(target, f"{name}/size")
    layer = net.network.add_slice(x, (0,) * rank, (1,) * rank, tuple(strides))
    layer.set_input(2, size)
    return net.finish(layer, name)


def slice_axis(net: NetworkContext, x: Any, dim: int, start: Any, end: Any, step: int, name: str) -> Any:
    """``x[..., start:end:step, ...]`` along ``dim`` (static bounds; dynamic extent kept)."""
    rank = net.rank(x)
    dim = norm_dim(dim, rank)
    size = net.shape(x)[dim]
    dims = runtime_dims(net, x, name)
    if size < 0:
        if start in (None, 0) and (end is None or (isinstance(end, int) and end >= 2**62)) and step == 1:
            return x
        raise net.error(f"slicing the dynamic dimension {dim} is not supported")
    start = 0 if start is None else int(start)
    end = size if end is None else min(int(end), size)
    start = max(start + size, 0) if start < 0 else min(start, size)
    end = max(end + size, 0) if end < 0 else end
    count = max(0, (end - start + step - 1) // step)
    starts = [0] * rank
    starts[dim] = start
    strides = [1] * rank
    strides[dim] = step
    out_dims = list(dims)
    out_dims[dim] = count
    if all(isinstance(d, int) for d in out_dims):
        layer = net.network.add_slice(x, tuple(starts), tuple(out_dims), tuple(strides))
        return net.finish(layer, name)
    size = net.dims_tensor(out_dims, f"{name}/size")
    layer = net.network.add_slice(x, tuple(starts), (1,) * rank, tuple(strides))
    layer.set_input(2, size)
    return net.finish(layer, name)


def select_index(net: NetworkContext, x: Any, dim: int, index: int, name: str) -> Any:
    """``x.select(dim, index)``: gather one index, dropping the dim."""
    rank = net.rank(x)
    dim = norm_dim(dim, rank)
    size = net.shape(x)[dim]
    if index < 0:
        if size < 0:
            raise net.error("negative index into a dynamic dimension is not supported")
        index += size
    indices = net.constant(index, f"{name}/index", "int32")  # 0-d: the dim disappears
    layer = net.network.add_gather(x, indices, dim)
    return net.finish(layer, name)


def concat(net: NetworkContext, tensors: Sequence[Any], dim: int, name: str) -> Any:
    items = [t for t in tensors if not (net.is_itensor(t) and 0 in net.shape(t))] or list(tensors)
    ref = next(t for t in items if net.is_itensor(t))
    items = [net.tensor(t, f"{name}/in{i}", like=ref) for i, t in enumerate(items)]
    dtype = net.dtype_name(ref)
    items = [net.cast(t, dtype, f"{name}/in{i}_{dtype}") for i, t in enumerate(items)]
    if len(items) == 1:
        from trtforge_torch2trt.impl.cast import identity

        return identity(net, items[0], name)
    layer = net.network.add_concatenation(items)
    layer.axis = norm_dim(dim, net.rank(items[0]))
    return net.finish(layer, name)


def split(net: NetworkContext, x: Any, sizes: Sequence[int], dim: int, name: str) -> tuple[Any, ...]:
    outs, start = [], 0
    for i, size in enumerate(sizes):
        outs.append(slice_axis(net, x, dim, start, start + int(size), 1, f"{name}.{i}"))
        start += int(size)
    return tuple(outs)
