"""Thin op adapters, one module per op family; each reads an ATen node's arguments and calls
a builder from :mod:`trtforge_torch2trt.impl`. Modules here are discovered by the registry."""
from __future__ import annotations

from typing import Any

CONST = "trtforge_const"  # node.meta flag set by coverage: value known before the network runs


def aten() -> Any:
    """``torch.ops.aten`` (converter modules are imported only once a conversion starts)."""
    import torch

    return torch.ops.aten


def arg(args: Any, kwargs: dict[str, Any], index: int, name: str, default: Any = None) -> Any:
    """Positional-or-keyword argument of an ATen call."""
    if index < len(args):
        return args[index]
    return kwargs.get(name, default)


def node_arg(node: Any, index: int, name: str, default: Any = None) -> Any:
    return arg(node.args, node.kwargs, index, name, default)


def input_key(node: Any, index: int = 0) -> str | None:
    """FX node name of an input (the calibration-range key of that tensor)."""
    value = node.args[index] if index < len(node.args) else None
    return getattr(value, "name", None)


def is_constant(value: Any) -> bool:
    """True for a node whose value is folded in PyTorch (weights), or a plain Python value."""
    meta = getattr(value, "meta", None)
    if meta is None:
        return True
    return bool(meta.get(CONST))


def fake(value: Any) -> Any:
    """The FakeTensor (shape, dtype) torch.export recorded for a node's value."""
    return getattr(value, "meta", {}).get("val")
