"""The ``uff`` Backend: cheap checks here; reading and importing in :mod:`.load` (lazy)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from trtforge.backends import Availability, Backend, requires_modules

from trtforge_uff import ROUTE

if TYPE_CHECKING:
    from trtforge.context import ConversionContext
    from trtforge.sources import ModelSource
    from trtforge.specs import BuildSpec

UFF_KINDS = ("uff-file",)


class UffBackend(Backend):
    """UFF file -> our reader + validator -> converter per UFF op -> TensorRT layers."""

    name = ROUTE
    priority = 120
    description = "UFF files into TensorRT through the layer API (works where TensorRT dropped UFF)"

    def is_available(self) -> Availability:
        return requires_modules("google.protobuf", "numpy")

    def accepts(self, source: "ModelSource") -> bool:
        return source.kind in UFF_KINDS

    def validate_options(self, options: Mapping[str, Any]) -> None:
        from trtforge_uff.load import RouteOptions

        RouteOptions.parse(options)

    def populate(self, network: Any, source: "ModelSource", spec: "BuildSpec",
                 ctx: "ConversionContext") -> None:
        from trtforge_uff.load import populate

        populate(network, source, spec, ctx)
