"""The ``torch2trt`` Backend: cheap checks here, the real work in :mod:`.convert` (lazy)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from trtforge.plugin.backends import Availability, Backend, requires_modules

from trtforge_torch2trt import ROUTE

if TYPE_CHECKING:
    from trtforge.conversion.specs import BuildSpec
    from trtforge.plugin.context import ConversionContext
    from trtforge.models.sources import ModelSource


class Torch2TrtBackend(Backend):
    """PyTorch module -> torch.export (core ATen) -> TensorRT layers, op by op."""

    name = ROUTE
    priority = 150
    description = "PyTorch modules into TensorRT without ONNX (torch.export + converter registry)"

    def is_available(self) -> Availability:
        return requires_modules("torch")

    def accepts(self, source: "ModelSource") -> bool:
        return source.kind == "torch-module"

    def validate_options(self, options: Mapping[str, Any]) -> None:
        """One option: ``int8_min_cosine`` (INT8 accuracy control's target; 0 turns it off)."""
        from trtforge.int8.accuracy_control import MIN_COSINE_OPTION, min_cosine_option
        from trtforge.errors import UsageError

        unknown = sorted(set(options) - {MIN_COSINE_OPTION})
        if unknown:
            raise UsageError(f"{ROUTE} does not know the option(s) {', '.join(unknown)}",
                             hint=f"known options: {MIN_COSINE_OPTION} (route-specific options of "
                             "onnx_trt need backend='onnx_trt')")
        min_cosine_option(dict(options))

    def populate(
        self, network: Any, source: "ModelSource", spec: "BuildSpec", ctx: "ConversionContext"
    ) -> None:
        from trtforge_torch2trt.convert import populate

        populate(network, source, spec, ctx)

    def partial_graph(self, source: "ModelSource", spec: "BuildSpec", ctx: "ConversionContext") -> Any:
        """The captured graph with every node's converter or refusal, for hybrid programs."""
        from trtforge_torch2trt.capture import capture
        from trtforge_torch2trt.partial import partial_graph
        from trtforge_torch2trt.registry import build_registry

        with ctx.stage("capture", "torch.export -> core ATen"):
            captured = capture(source.model, spec)
        return partial_graph(captured, build_registry())
