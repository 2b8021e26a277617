"""Pooling: max, average (with or without padded elements counted), max-average blend."""
from __future__ import annotations

import math
from typing import Any

from trtforge.reference.base import LayerView, register
from trtforge.reference.padding import forward_padding, torch_pad_list


def _window(x: Any, window: list[int], stride: list[int], op: str) -> Any:
    import torch.nn.functional as F

    spatial = len(window)
    if op == "max":
        return (F.max_pool1d, F.max_pool2d, F.max_pool3d)[spatial - 1](x, window, stride)
    summed = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[spatial - 1](x, window, stride)
    return summed * math.prod(window)


@register("POOLING")
def pooling(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch
    import torch.nn.functional as F

    x = inputs[0].float()
    window = [int(w) for w in layer.attr("window_size_nd")]
    spatial = len(window)
    stride = [int(s) for s in layer.attr("stride_nd", window)]
    lead = x.dim() - spatial
    pre, post, extra = forward_padding(
        layer.attr("padding_mode", "EXPLICIT_ROUND_DOWN"), list(x.shape[lead:]), window, stride,
        [1] * spatial, layer.attr("pre_padding", [0] * spatial), layer.attr("post_padding", [0] * spatial))
    full_post = [p + e for p, e in zip(post, extra)]
    kind = layer.attr("kind", "MAX")
    # The torch pooling functions want (N, C, *spatial); fold any other leading dims.
    shape = x.shape
    x = x.reshape((-1, 1) + tuple(shape[lead:]))

    def max_pool() -> Any:
        padded = F.pad(x, torch_pad_list(pre, full_post), value=float("-inf"))
        return _window(padded, window, stride, "max")

    def avg_pool() -> Any:
        sums = _window(F.pad(x, torch_pad_list(pre, full_post)), window, stride, "sum")
        ones = torch.ones_like(x)
        if layer.attr("average_count_excludes_padding", True):
            counted = F.pad(ones, torch_pad_list(pre, full_post))
        else:
            counted = F.pad(F.pad(ones, torch_pad_list(pre, post), value=1.0),
                            torch_pad_list([0] * spatial, extra))
        counts = _window(counted, window, stride, "sum")
        return sums / counts

    if kind == "MAX":
        out = max_pool()
    elif kind == "AVERAGE":
        out = avg_pool()
    elif kind == "MAX_AVERAGE_BLEND":
        blend = float(layer.attr("blend_factor", 0.0))
        out = blend * max_pool() + (1.0 - blend) * avg_pool()
    else:
        raise layer.fail(f"pooling type {kind} is not modelled")
    return [out.reshape(tuple(shape[:lead]) + tuple(out.shape[2:]))]
