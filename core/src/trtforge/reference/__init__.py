"""CPU reference executor for network snapshots (torch), one module per layer family.

>>> from trtforge.reference import execute
>>> outputs = execute(snapshot, {"x": array})      # dict of numpy arrays

Add a layer type with ``@register("TYPE")`` on ``fn(layer: LayerView, inputs) -> [outputs]``.
"""
from __future__ import annotations

from trtforge.reference.base import LAYER_EXECUTORS, LayerView, register
from trtforge.reference.executor import (
    ExecutionResult,
    Executor,
    execute,
    supported_layer_types,
    unsupported_layers,
)

__all__ = ["LAYER_EXECUTORS", "ExecutionResult", "Executor", "LayerView", "execute", "register",
           "supported_layer_types", "unsupported_layers"]
