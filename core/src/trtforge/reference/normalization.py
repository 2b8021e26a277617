"""Scale (all modes), SoftMax, Normalization (layer/instance/group), LRN, Reduce, TopK."""
from __future__ import annotations

from typing import Any

from trtforge.reference.base import LayerView, axes_from_mask, register


@register("SCALE")
def scale(layer: LayerView, inputs: list[Any]) -> list[Any]:
    """out = (x * scale + shift) ** power, coefficients per tensor, channel or element."""
    x = inputs[0].float()
    mode = layer.attr("mode", "UNIFORM")
    axis = int(layer.attr("channel_axis", 1))

    def coeff(key: str, default: float) -> Any:
        w = layer.weights(key)
        if w is None:
            return default
        w = w.float()
        if mode == "UNIFORM":
            return w.reshape(())
        if mode == "CHANNEL":
            view = [1] * x.dim()
            view[axis] = -1
            return w.reshape(view)
        return w.reshape([1] * axis + list(x.shape[axis:]))

    out = x * coeff("scale", 1.0) + coeff("shift", 0.0)
    power = coeff("power", 1.0)
    if not isinstance(power, float) or power != 1.0:
        out = out ** power
    return [out]


@register("SOFTMAX")
def softmax(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch

    x = inputs[0].float()
    axes = axes_from_mask(int(layer.attr("axes", 1 << max(x.dim() - 1, 0))), x.dim())
    return [torch.softmax(x, dim=axes[0])]


@register("NORMALIZATION")
def normalization(layer: LayerView, inputs: list[Any]) -> list[Any]:
    """(x - mean) / sqrt(var + eps) * scale + bias over the axes; groups split dim 1."""
    x, gamma, beta = inputs[0].float(), inputs[1].float(), inputs[2].float()
    axes = axes_from_mask(int(layer.attr("axes")), x.dim())
    groups = int(layer.attr("num_groups", 1))
    eps = float(layer.attr("epsilon", 1e-5))
    if groups > 1:
        n, c = x.shape[0], x.shape[1]
        grouped = x.reshape([n, groups, c // groups] + list(x.shape[2:]))
        dims = [2] + [a + 1 for a in axes if a >= 2]
        mean = grouped.mean(dim=dims, keepdim=True)
        var = grouped.var(dim=dims, unbiased=False, keepdim=True)
        normed = ((grouped - mean) / (var + eps).sqrt()).reshape(x.shape)
    else:
        mean = x.mean(dim=axes, keepdim=True)
        var = x.var(dim=axes, unbiased=False, keepdim=True)
        normed = (x - mean) / (var + eps).sqrt()
    return [normed * gamma + beta]


@register("LRN")
def lrn(layer: LayerView, inputs: list[Any]) -> list[Any]:
    """x / (k + alpha/window * sum of squares over the channel window) ** beta (dim 1)."""
    import torch.nn.functional as F

    x = inputs[0].float()
    window = int(layer.attr("window_size"))
    alpha, beta, k = (float(layer.attr(n)) for n in ("alpha", "beta", "k"))
    squares = (x * x).unsqueeze(1)
    half = window // 2
    pad = [0, 0] * (x.dim() - 2) + [half, half]
    summed = F.pad(squares, pad).unfold(2, window, 1).sum(-1).squeeze(1)
    return [x / (k + alpha / window * summed) ** beta]


@register("REDUCE")
def reduce(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch

    x = inputs[0]
    if x.is_floating_point():
        x = x.float()
    axes = axes_from_mask(int(layer.attr("axes")), x.dim())
    keep = bool(layer.attr("keep_dims", False))
    op = layer.attr("op")
    if not axes:
        return [x]
    if op == "SUM":
        out = x.sum(dim=axes, keepdim=keep)
    elif op == "AVG":
        out = x.mean(dim=axes, keepdim=keep)
    elif op == "PROD":
        out = x
        for a in sorted(axes, reverse=True):
            out = out.prod(dim=a, keepdim=keep)
    elif op in ("MAX", "MIN"):
        out = torch.amax(x, dim=axes, keepdim=keep) if op == "MAX" else torch.amin(x, dim=axes, keepdim=keep)
    else:
        raise layer.fail(f"reduce operation {op} is not modelled")
    return [out]


@register("TOPK")
def topk(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch

    x = inputs[0]
    if x.is_floating_point():
        x = x.float()
    axis = axes_from_mask(int(layer.attr("axes")), x.dim())[0]
    k = int(inputs[1].reshape(()).item()) if len(inputs) > 1 and inputs[1] is not None else int(layer.attr("k"))
    values, indices = torch.topk(x, k, dim=axis, largest=layer.attr("op", "MAX") == "MAX", sorted=True)
    return [values, indices]
