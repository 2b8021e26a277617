"""Activation (every ActivationType) and ParametricReLU, from TensorRT's documented formulas."""
from __future__ import annotations

import math
from typing import Any, Callable

from trtforge.reference.base import LayerView, register


def _formulas() -> dict[str, Callable[[Any, float, float], Any]]:
    import torch

    return {
        "RELU": lambda x, a, b: torch.clamp(x, min=0.0),
        "SIGMOID": lambda x, a, b: torch.sigmoid(x),
        "TANH": lambda x, a, b: torch.tanh(x),
        "LEAKY_RELU": lambda x, a, b: torch.where(x >= 0, x, a * x),
        "ELU": lambda x, a, b: torch.where(x >= 0, x, a * (torch.exp(x) - 1)),
        "SELU": lambda x, a, b: b * torch.where(x > 0, x, a * (torch.exp(x) - 1)),
        "SOFTSIGN": lambda x, a, b: x / (1 + torch.abs(x)),
        "SOFTPLUS": lambda x, a, b: a * torch.log(torch.exp(b * x) + 1),
        "CLIP": lambda x, a, b: torch.clamp(x, min=a, max=b),
        "HARD_SIGMOID": lambda x, a, b: torch.clamp(a * x + b, min=0.0, max=1.0),
        "SCALED_TANH": lambda x, a, b: a * torch.tanh(b * x),
        "THRESHOLDED_RELU": lambda x, a, b: torch.where(x > a, x, torch.zeros_like(x)),
        "GELU_ERF": lambda x, a, b: 0.5 * x * (1 + torch.erf(x / math.sqrt(2.0))),
        "GELU_TANH": lambda x, a, b: 0.5 * x * (
            1 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3))),
    }


@register("ACTIVATION")
def activation(layer: LayerView, inputs: list[Any]) -> list[Any]:
    kind = layer.attr("kind")
    formula = _formulas().get(kind)
    if formula is None:
        raise layer.fail(f"activation type {kind} is not modelled")
    # alpha/beta are float32 in TensorRT; keep their float32 value, not a rounder decimal.
    return [formula(inputs[0].float(), float(layer.attr("alpha", 0.0)), float(layer.attr("beta", 0.0)))]


@register("PARAMETRIC_RELU")
def parametric_relu(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch

    x, slope = inputs[0].float(), inputs[1].float()
    return [torch.where(x >= 0, x, slope * x)]
