"""The ``torch2trt`` Backend: cheap checks here, the real work in :mod:`.convert` (lazy)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trtforge.backends import Availability, Backend, requires_modules

from trtforge_torch2trt import ROUTE

if TYPE_CHECKING:
    from trtforge.specs import BuildSpec
    from trtforge.context import ConversionContext
    from trtforge.sources import ModelSource


class Torch2TrtBackend(Backend):
    """PyTorch module -> torch.export (core ATen) -> TensorRT layers, op by op."""

    name = ROUTE
    priority = 150
    description = "PyTorch modules into TensorRT without ONNX (torch.export + converter registry)"

    def is_available(self) -> Availability:
        return requires_modules("torch")

    def accepts(self, source: "ModelSource") -> bool:
        return source.kind == "torch-module"

    def populate(
        self, network: Any, source: "ModelSource", spec: "BuildSpec", ctx: "ConversionContext"
    ) -> None:
        from trtforge_torch2trt.convert import populate

        populate(network, source, spec, ctx)
