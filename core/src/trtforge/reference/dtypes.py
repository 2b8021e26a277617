"""TensorRT dtype names (as in snapshots) to torch dtypes, and TensorRT's rounding rules."""
from __future__ import annotations

from typing import Any

FLOAT_TYPES = ("float32", "float16", "bfloat16")


def torch_dtype(name: str) -> Any:
    import torch

    table = {
        "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
        "int8": torch.int8, "uint8": torch.uint8, "int32": torch.int32, "int64": torch.int64,
        "bool": torch.bool,
    }
    return table.get(name)


def to_declared(tensor: Any, name: str) -> Any:
    """Round/convert a computed tensor to the dtype the network declares for it."""
    import torch

    target = torch_dtype(name)
    if target is None or tensor.dtype == target:
        return tensor
    if target in (torch.int8, torch.uint8, torch.int32) and tensor.is_floating_point():
        # Float to integer casts saturate in TensorRT instead of wrapping around.
        info = torch.iinfo(target)
        tensor = torch.clamp(torch.trunc(tensor), info.min, info.max)
    return tensor.to(target)


def widen(tensor: Any) -> Any:
    """fp16/bf16 inputs are computed in float32 (TensorRT accumulates in fp32)."""
    import torch

    if tensor is not None and tensor.dtype in (torch.float16, torch.bfloat16):
        return tensor.float()
    return tensor
