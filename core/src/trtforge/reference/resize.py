"""Resize: nearest (four rounding modes), linear and cubic, separable over every axis.

Coordinates follow TensorRT's ResizeCoordinateTransformation: ALIGN_CORNERS
``x_in = x_out * (in - 1) / (out - 1)``, ASYMMETRIC ``x_out / s``, HALF_PIXEL
``(x_out + 0.5) / s - 0.5``; the UPPER selector maps a one-pixel output to input 0.
"""
from __future__ import annotations

import math
from typing import Any

from trtforge.reference.base import LayerView, register


def _coordinates(layer: LayerView, size_in: int, size_out: int, scale: float) -> Any:
    import torch

    out = torch.arange(size_out, dtype=torch.float64)
    transform = layer.attr("coordinate_transformation", "ASYMMETRIC")
    if size_out == 1 and layer.attr("selector_for_single_pixel", "FORMULA") == "UPPER":
        return torch.zeros(1, dtype=torch.float64)
    if transform == "ALIGN_CORNERS":
        return out * ((size_in - 1) / (size_out - 1)) if size_out > 1 else torch.zeros(1, dtype=torch.float64)
    if transform == "HALF_PIXEL":
        return (out + 0.5) / scale - 0.5
    return out / scale


def _nearest(layer: LayerView, x: Any, axis: int, coords: Any) -> Any:
    import torch

    rounding = layer.attr("nearest_rounding", "FLOOR")
    if rounding == "HALF_UP":
        index = torch.floor(coords + 0.5)
    elif rounding == "HALF_DOWN":
        index = torch.ceil(coords - 0.5)
    elif rounding == "CEIL":
        index = torch.ceil(coords)
    else:
        index = torch.floor(coords)
    index = index.long().clamp(0, x.shape[axis] - 1)
    return torch.index_select(x, axis, index)


def _weighted(x: Any, axis: int, indices: list[Any], weights: list[Any]) -> Any:
    out = None
    for index, weight in zip(indices, weights):
        view = [1] * x.dim()
        view[axis] = -1
        term = torch_index(x, axis, index) * weight.reshape(view).to(x.dtype)
        out = term if out is None else out + term
    return out


def torch_index(x: Any, axis: int, index: Any) -> Any:
    import torch

    return torch.index_select(x, axis, index)


def _linear(x: Any, axis: int, coords: Any) -> Any:
    import torch

    size = x.shape[axis]
    coords = coords.clamp(0, size - 1)
    low = torch.floor(coords)
    frac = coords - low
    low = low.long()
    high = (low + 1).clamp(max=size - 1)
    return _weighted(x, axis, [low, high], [1 - frac, frac])


def _cubic(layer: LayerView, x: Any, axis: int, coords: Any) -> Any:
    import torch

    a = float(layer.attr("cubic_coeff", -0.75))
    size = x.shape[axis]
    base = torch.floor(coords)
    t = coords - base

    def kernel(d: Any) -> Any:
        d = d.abs()
        near = ((a + 2) * d - (a + 3)) * d * d + 1
        far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
        return torch.where(d <= 1, near, torch.where(d < 2, far, torch.zeros_like(d)))

    offsets = [-1, 0, 1, 2]
    raw = [base.long() + o for o in offsets]
    weights = [kernel(t - o) for o in offsets]
    if layer.attr("exclude_outside", False):
        inside = [((r >= 0) & (r < size)).double() for r in raw]
        weights = [w * m for w, m in zip(weights, inside)]
        total = sum(weights)
        weights = [w / total for w in weights]
    indices = [r.clamp(0, size - 1) for r in raw]
    return _weighted(x, axis, indices, weights)


@register("RESIZE")
def resize(layer: LayerView, inputs: list[Any]) -> list[Any]:
    x = inputs[0]
    floating = x.is_floating_point()
    x = x.double() if floating else x
    rank = x.dim()
    scales = [float(s) for s in (layer.attrs.get("scales") or [])]
    if len(inputs) > 1 and inputs[1] is not None:
        given = inputs[1]
        if given.is_floating_point():
            scales = [float(v) for v in given.reshape(-1).tolist()]
            out_shape = [int(math.floor(d * s)) for d, s in zip(x.shape, scales)]
        else:
            out_shape = [int(v) for v in given.reshape(-1).tolist()]
            scales = []
    elif scales:
        out_shape = [int(math.floor(d * s)) for d, s in zip(x.shape, scales)]
    else:
        out_shape = [int(d) for d in layer.attr("shape")]
    mode = layer.attr("resize_mode", "NEAREST")
    for axis in range(rank):
        size_in, size_out = x.shape[axis], out_shape[axis]
        scale = scales[axis] if scales else size_out / size_in
        if size_in == size_out and scale == 1.0:
            continue
        coords = _coordinates(layer, size_in, size_out, scale)
        if mode == "NEAREST" or not floating:
            x = _nearest(layer, x, axis, coords)
        elif mode == "LINEAR":
            x = _linear(x, axis, coords)
        elif mode == "CUBIC":
            x = _cubic(layer, x, axis, coords)
        else:
            raise layer.fail(f"resize mode {mode} is not modelled")
    return [x.float() if floating else x]
