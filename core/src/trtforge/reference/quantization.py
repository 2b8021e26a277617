"""Quantize and Dequantize exactly as TensorRT defines them.

Quantize: ``q = clamp(round_half_to_even(x / scale) + zero_point, -128, 127)`` as int8;
Dequantize: ``(q - zero_point) * scale``. The scale is a scalar (per-tensor), a 1-D tensor
along ``axis`` (per-channel), or a tensor of the input's rank (block quantization).

TensorRT 8.x has int8 Q/DQ only and records a Quantize layer's output as float32 (its network
types are weak: the H200 run of 2026-12-02 found every Q of an 8.6 INT8 network so); a float
output type on a Quantize therefore means int8.
"""
from __future__ import annotations

from typing import Any

from trtforge.reference.base import LayerView, normalize_axis, register

_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int4": (-8, 7)}
_WEAKLY_TYPED_INT8 = ("float32", "float16")  # how TensorRT 8.x types a Quantize's (int8) output


def _broadcast(layer: LayerView, x: Any, value: Any) -> Any:
    import torch

    value = value.float()
    if value.numel() == 1:
        return value.reshape(())
    if value.dim() == x.dim() and value.dim() > 1:
        # Block quantization: each scale covers a block of the input.
        for axis in range(x.dim()):
            if value.shape[axis] != x.shape[axis]:
                value = torch.repeat_interleave(value, x.shape[axis] // value.shape[axis], dim=axis)
        return value
    axis = normalize_axis(int(layer.attr("axis", 0)), x.dim())
    view = [1] * x.dim()
    view[axis] = -1
    return value.reshape(view)


def _zero_point(layer: LayerView, inputs: list[Any], x: Any) -> Any:
    if len(inputs) > 2 and inputs[2] is not None:
        return _broadcast(layer, x, inputs[2])
    return 0.0


@register("QUANTIZE")
def quantize(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch

    out_type = layer.output_dtype()
    if out_type in _WEAKLY_TYPED_INT8:
        out_type = "int8"
    if out_type not in _RANGES:
        raise layer.fail(f"quantization to {out_type} is not modelled",
                         hint="the reference executor models int8/uint8/int4 Q/DQ")
    x = inputs[0].float()
    scale = _broadcast(layer, x, inputs[1])
    low, high = _RANGES[out_type]
    q = torch.round(x / scale) + _zero_point(layer, inputs, x)  # torch.round: half to even
    return [torch.clamp(q, low, high)]


@register("DEQUANTIZE")
def dequantize(layer: LayerView, inputs: list[Any]) -> list[Any]:
    q = inputs[0].float()
    scale = _broadcast(layer, q, inputs[1])
    return [(q - _zero_point(layer, inputs, q)) * scale]
