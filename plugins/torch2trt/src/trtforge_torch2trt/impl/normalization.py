"""Batch norm (folded into a per-channel scale), layer norm and group norm."""
from __future__ import annotations

from typing import Any, Sequence

from trtforge_torch2trt.impl.cast import precise_in, precise_out
from trtforge_torch2trt.network import NetworkContext


def batch_norm_affine(weight: Any, bias: Any, mean: Any, var: Any, eps: float) -> tuple[Any, Any]:
    """Inference batch norm as ``x * scale + shift`` per channel (float64)."""
    import torch

    scale = torch.rsqrt(var.to(torch.float64) + eps)
    if weight is not None:
        scale = scale * weight.to(torch.float64)
    shift = -mean.to(torch.float64) * scale
    if bias is not None:
        shift = shift + bias.to(torch.float64)
    return scale, shift


def batch_norm(net: NetworkContext, x: Any, weight: Any, bias: Any, mean: Any, var: Any,
               eps: float, name: str) -> Any:
    """Inference batch norm = ``x * scale + shift`` per channel (axis 1), one IScaleLayer."""
    scale, shift = batch_norm_affine(weight, bias, mean, var, eps)
    rank = net.rank(x)
    if rank < 3:  # IScaleLayer wants channels then spatial dims; give 1-D/2-D inputs a dim
        from trtforge_torch2trt.impl.shape import squeeze, unsqueeze

        x3 = unsqueeze(net, x, -1, f"{name}/as3d")
        y = _scale(net, x3, scale, shift, f"{name}/scale")
        return squeeze(net, y, [-1], name)
    return _scale(net, x, scale, shift, name)


def _scale(net: NetworkContext, x: Any, scale: Any, shift: Any, name: str) -> Any:
    dtype = net.dtype_name(x)
    if dtype == "bfloat16":  # IScaleLayer needs bf16 weights numpy cannot hold: use PROD + SUM
        from trtforge_torch2trt.impl.elementwise import binary

        shape = [1, -1] + [1] * (net.rank(x) - 2)
        multiplied = binary(net, "PROD", x, scale.reshape(shape), f"{name}/mul")
        return binary(net, "SUM", multiplied, shift.reshape(shape), name)
    layer = net.network.add_scale_nd(
        x, net.trt.ScaleMode.CHANNEL, net.weights(shift, dtype), net.weights(scale, dtype),
        net.trt.Weights(net.trt_dtype(dtype)), 1)
    return net.finish(layer, name)


def layer_norm(net: NetworkContext, x: Any, normalized_shape: Sequence[int], weight: Any, bias: Any,
               eps: float, name: str) -> Any:
    """INormalizationLayer over the trailing dims, statistics in FP32."""
    import torch

    rank = net.rank(x)
    count = len(normalized_shape)
    axes = 0
    for a in range(rank - count, rank):
        axes |= 1 << a
    inner, original = precise_in(net, x, name)
    shape = [1] * (rank - count) + [int(d) for d in normalized_shape]
    w = weight if weight is not None else torch.ones(normalized_shape)
    b = bias if bias is not None else torch.zeros(normalized_shape)
    scale = net.constant(w.reshape(shape), f"{name}/weight", "float32")
    shift = net.constant(b.reshape(shape), f"{name}/bias", "float32")
    layer = net.network.add_normalization(inner, scale, shift, axes)
    layer.epsilon = float(eps)
    y = net.finish(layer, name if original is None else f"{name}/fp32")
    return precise_out(net, y, original, name)


def group_norm(net: NetworkContext, x: Any, weight: Any, bias: Any, groups: int, eps: float,
               name: str) -> Any:
    """INormalizationLayer with ``num_groups`` (axes: the spatial dims), statistics in FP32."""
    import torch

    rank = net.rank(x)
    channels = net.shape(x)[1]
    axes = 0
    for a in range(2, rank):
        axes |= 1 << a
    inner, original = precise_in(net, x, name)
    # TensorRT's group normalisation takes one scale/shift per *group*; the per-channel
    # affine of nn.GroupNorm follows as elementwise layers (in FP32 as well).
    group_shape = [1, int(groups)] + [1] * (rank - 2)
    ones = net.constant(torch.ones(group_shape), f"{name}/group_scale", "float32")
    zeros = net.constant(torch.zeros(group_shape), f"{name}/group_shift", "float32")
    layer = net.network.add_normalization(inner, ones, zeros, axes)
    layer.num_groups = int(groups)
    layer.epsilon = float(eps)
    y = net.finish(layer, f"{name}/normalized")
    channel_shape = [1, channels] + [1] * (rank - 2)
    from trtforge_torch2trt.impl.elementwise import binary

    if weight is not None:
        y = binary(net, "PROD", y, weight.reshape(channel_shape).float(), f"{name}/weight")
    last = name if original is None else f"{name}/fp32"
    if bias is not None:
        y = binary(net, "SUM", y, bias.reshape(channel_shape).float(), last)
    else:
        from trtforge_torch2trt.impl.cast import identity

        y = identity(net, y, last)
    return precise_out(net, y, original, name)
