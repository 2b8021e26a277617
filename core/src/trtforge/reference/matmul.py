"""MatrixMultiply (NONE / TRANSPOSE / VECTOR operands, broadcast batch dims) and Einsum."""
from __future__ import annotations

from typing import Any

from trtforge.reference.base import LayerView, register


@register("MATRIX_MULTIPLY")
def matrix_multiply(layer: LayerView, inputs: list[Any]) -> list[Any]:
    a, b = inputs[0].float(), inputs[1].float()
    op0, op1 = layer.attr("op0", "NONE"), layer.attr("op1", "NONE")
    if op0 == "TRANSPOSE":
        a = a.transpose(-1, -2)
    if op1 == "TRANSPOSE":
        b = b.transpose(-1, -2)
    # A VECTOR operand's last dimension is the vector; it does not appear in the output.
    if op0 == "VECTOR":
        a = a.unsqueeze(-2)
    if op1 == "VECTOR":
        b = b.unsqueeze(-1)
    out = a @ b
    if op1 == "VECTOR":
        out = out.squeeze(-1)
    if op0 == "VECTOR":
        out = out.squeeze(-1 if op1 == "VECTOR" else -2)
    return [out]


@register("EINSUM")
def einsum(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch

    return [torch.einsum(layer.attr("equation"), *[t.float() for t in inputs])]
