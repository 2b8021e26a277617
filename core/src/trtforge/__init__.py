"""trtforge: turn trained models into TensorRT engines through interchangeable routes.

Public names are imported lazily so that ``import trtforge`` (and ``trtforge --help``) stays
fast and works without torch, TensorFlow or TensorRT installed.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "convert": "trtforge.api",
    "build_snapshot": "trtforge.snapshot_build",
    "check": "trtforge.checking",
    "debug_layers": "trtforge.checking",
    "Snapshot": "trtforge.snapshot",
    "compare": "trtforge.comparison",
    "optimize": "trtforge.optimization",
    "BuildSpec": "trtforge.api",
    "InputSpec": "trtforge.specs",
    "ShapeProfile": "trtforge.specs",
    "Precision": "trtforge.specs",
    "Target": "trtforge.specs",
    "Engine": "trtforge.engine",
    "Program": "trtforge.program",
    "EngineCache": "trtforge.cache",
    "Backend": "trtforge.backends",
    "Availability": "trtforge.backends",
    "ModelSource": "trtforge.sources",
    "ModelFormat": "trtforge.sources",
    "ConversionContext": "trtforge.context",
    "hookimpl": "trtforge.hookspecs",
    "TrtforgeError": "trtforge.errors",
    "ConversionError": "trtforge.errors",
    "UnsupportedOperationsError": "trtforge.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__", "plugins", "errors"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in ("plugins", "errors"):
        return importlib.import_module(f"trtforge.{name}")
    raise AttributeError(f"module 'trtforge' has no attribute {name!r}")

