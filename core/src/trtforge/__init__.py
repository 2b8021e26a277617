"""trtforge: turn trained models into TensorRT engines through interchangeable routes.

Public names are imported lazily so that ``import trtforge`` (and ``trtforge --help``) stays
fast and works without torch, TensorFlow or TensorRT installed.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "convert": "trtforge.conversion.api",
    "build_snapshot": "trtforge.verify.snapshot_build",
    "check": "trtforge.verify.checking",
    "debug_layers": "trtforge.verify.checking",
    "Snapshot": "trtforge.verify.snapshot",
    "compare": "trtforge.report.comparison",
    "optimize": "trtforge.report.optimization",
    "BuildSpec": "trtforge.conversion.api",
    "InputSpec": "trtforge.conversion.specs",
    "ShapeProfile": "trtforge.conversion.specs",
    "Precision": "trtforge.conversion.specs",
    "Target": "trtforge.conversion.specs",
    "Engine": "trtforge.conversion.engine",
    "Program": "trtforge.program",
    "EngineCache": "trtforge.conversion.cache",
    "Backend": "trtforge.plugin.backends",
    "Availability": "trtforge.plugin.backends",
    "ModelSource": "trtforge.models.sources",
    "ModelFormat": "trtforge.models.sources",
    "ConversionContext": "trtforge.plugin.context",
    "hookimpl": "trtforge.plugin.hookspecs",
    "TrtforgeError": "trtforge.errors",
    "ConversionError": "trtforge.errors",
    "UnsupportedOperationsError": "trtforge.errors",
}

# Modules reachable as attributes: ``trtforge.plugins.register(...)``, ``trtforge.errors``.
_MODULES = {"plugins": "trtforge.plugin.plugins", "errors": "trtforge.errors"}

__all__ = sorted(_EXPORTS) + ["__version__", "plugins", "errors"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _MODULES:
        return importlib.import_module(_MODULES[name])
    raise AttributeError(f"module 'trtforge' has no attribute {name!r}")

