"""trtforge route ``torch2trt``: PyTorch modules straight into a TensorRT network, no ONNX.

The module is captured with ``torch.export`` and decomposed to the core ATen operator set;
every node is then turned into TensorRT layers by a converter from the registry
(:mod:`trtforge_torch2trt.registry`). Importing this package imports neither torch nor
TensorRT; that happens when a conversion starts.
"""
from __future__ import annotations

__version__ = "0.1.0"
ROUTE = "torch2trt"


def __getattr__(name: str) -> object:
    """torch2trt's API (``from trtforge_torch2trt import torch2trt, TRTModule``), loaded lazily."""
    if name in ("torch2trt", "TRTModule"):
        from trtforge_torch2trt import compat

        return getattr(compat, name)
    raise AttributeError(f"module 'trtforge_torch2trt' has no attribute {name!r}")
