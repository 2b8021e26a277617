"""Hook implementations only; nothing heavy is imported here (plugin discovery stays fast)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from trtforge.plugin.hookspecs import hookimpl

if TYPE_CHECKING:
    from trtforge.plugin.plugins import Registrar

from trtforge_onnx_trt.backend import OnnxTrtBackend


@hookimpl
def register_backends(register: "Registrar") -> None:
    register.backend(OnnxTrtBackend())
