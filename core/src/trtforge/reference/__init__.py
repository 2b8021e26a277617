"""CPU reference executor for network snapshots (torch), one module per layer family.

>>> from trtforge.reference import execute
>>> outputs = execute(snapshot, {"x": array})      # dict of numpy arrays

Add a layer type with ``@register("TYPE")`` on ``fn(layer: LayerView, inputs) -> [outputs]``.
"""
from __future__ import annotations

# Importing a family module registers its layer executors: here, so that any import of the
# executor (which imports this package first) finds every family registered.
from trtforge.reference import (  # noqa: F401  (imported for their registrations)
    activation,
    convolution,
    elementwise,
    matmul,
    normalization,
    pooling,
    quantization,
    resize,
    shape,
)
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
