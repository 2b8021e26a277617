"""Hook implementations only; nothing heavy is imported here (plugin discovery stays fast)."""
from __future__ import annotations

from typing import Any, Callable

from trtforge.hookspecs import hookimpl

from trtforge_onnx_trt.backend import OnnxTrtBackend


@hookimpl
def register_backends(register: Callable[[Any], None]) -> None:
    register(OnnxTrtBackend())
