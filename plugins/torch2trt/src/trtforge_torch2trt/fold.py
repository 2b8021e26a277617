"""Inference batch norms folded into the convolution before them (every precision).

Why: TensorRT's INT8 kernels take a convolution's bias, residual Add and activation as one
kernel, but with Q/DQ'd weights it cannot fold a separate per-channel scale (the batch norm)
into weights that are already quantized; an ONNX export folds batch norms before the parser
sees them, and this gives torch2trt's network the same shape. Per-output-channel weight
quantization commutes with a per-output-channel scale, so accuracy control's simulation of
the unfolded graph rounds the same values. FP16/BF16: a separate scale after a reduced-precision
convolution rounds the convolution's output before the batch norm's shift cancels most of it;
with statistics from data (model4) that gave 1.3x PyTorch's own FP16 error on the CPU executor
and 1.7x on the H200 (TensorRT 8.6), where the ONNX route, whose exporter folds batch norms,
stayed within it. FP32 too, so that its snapshot rebuilt at FP16 (``trtforge build --precision
fp16``) has the same weights. The fold is computed in float64, before any rounding.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trtforge_torch2trt.capture import Captured
from trtforge_torch2trt.impl.normalization import batch_norm_affine

_BATCH_NORM = "aten._native_batch_norm_legit_no_training.default"
_CONVOLUTION = "aten.convolution.default"


@dataclass(frozen=True)
class BatchNormFolds:
    """Convolution node -> (per-channel scale, shift) and the batch norms folded away."""

    affine: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    folded: frozenset[str] = frozenset()

    def weights(self, conv: str, weight: Any, bias: Any) -> tuple[Any, Any]:
        """``conv``'s weight and bias with its batch norm folded in (unchanged if none)."""
        if conv not in self.affine:
            return weight, bias
        import torch

        scale, shift = self.affine[conv]
        shape = [-1] + [1] * (weight.dim() - 1)
        folded_weight = (weight.to(torch.float64) * scale.view(shape)).to(weight.dtype)
        base = bias.to(torch.float64) if bias is not None else torch.zeros_like(shift)
        return folded_weight, (base * scale + shift).to(weight.dtype)


def batch_norm_folds(captured: Captured) -> BatchNormFolds:
    """Every batch norm whose input is a plain (not transposed) convolution used only by it,
    with constant parameters."""
    from trtforge_torch2trt.registry import target_name

    constants = captured.constants
    affine: dict[str, tuple[Any, Any]] = {}
    folded: set[str] = set()
    for node in captured.graph.nodes:
        if node.op != "call_function" or target_name(node.target) != _BATCH_NORM:
            continue
        conv = node.args[0]
        if getattr(conv, "op", None) != "call_function" or target_name(conv.target) != _CONVOLUTION:
            continue
        transposed = bool(conv.args[6]) if len(conv.args) > 6 else False
        weight = conv.args[1]
        if transposed or len(conv.users) != 1 or getattr(weight, "name", None) not in constants:
            continue
        params = [None if a is None else constants.get(getattr(a, "name", None)) for a in node.args[1:5]]
        if any(p is None for a, p in zip(node.args[1:5], params) if a is not None) or params[2] is None \
                or params[3] is None:
            continue
        bias = conv.args[2] if len(conv.args) > 2 else None
        if bias is not None and getattr(bias, "name", None) not in constants:
            continue
        affine[conv.name] = batch_norm_affine(*params, float(node.args[6]))
        folded.add(node.name)
    return BatchNormFolds(affine, frozenset(folded))
