"""The ``uff`` Backend: cheap checks here; reading and importing in :mod:`.load` (lazy)."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any, Mapping

from trtforge.plugin.backends import Availability, Backend, requires_modules

from trtforge_uff import ROUTE

if TYPE_CHECKING:
    from trtforge.plugin.context import ConversionContext
    from trtforge.models.sources import ModelSource
    from trtforge.conversion.specs import BuildSpec

UFF_KINDS = ("uff-file", "uff-text")
TF_KINDS = ("tf-frozen-graph", "tf-graphdef", "tf-savedmodel", "keras-model", "keras-file")


def _tf_path_available() -> bool:
    """TF -> UFF needs TensorFlow and core's shared TF graph loading (``trtforge.models.tf_graphs``)."""
    try:
        needed = ("tensorflow", "trtforge.models.tf_graphs")
        return all(importlib.util.find_spec(m) is not None for m in needed)
    except (ImportError, ValueError):
        return False


class UffBackend(Backend):
    """UFF file -> our reader + validator -> converter per UFF op -> TensorRT layers."""

    name = ROUTE
    priority = 160  # after tf_trt (150): for TF models UFF is the legacy way
    description = (
        "UFF files (and TF graphs through TF -> UFF) into TensorRT through the layer API, "
        "also where TensorRT dropped UFF"
    )

    def is_available(self) -> Availability:
        try:  # find_spec of "google.protobuf" imports "google", which may be missing
            return requires_modules("google.protobuf", "numpy")
        except ImportError:
            return Availability(False, "protobuf not installed")

    def accepts(self, source: "ModelSource") -> bool:
        if source.kind in UFF_KINDS:
            return True
        return source.kind in TF_KINDS and _tf_path_available()

    def validate_options(self, options: Mapping[str, Any]) -> None:
        from trtforge_uff.load import RouteOptions

        RouteOptions.parse(options)

    def partial_graph(self, source: "ModelSource", spec: "BuildSpec", ctx: "ConversionContext") -> Any:
        """For hybrid programs: TensorRT segments plus host stages (NMS_TRT where TensorRT lacks it)."""
        from trtforge_uff.load import RouteOptions, graph_of
        from trtforge_uff.partial import partial_graph

        options = RouteOptions.parse(spec.options)
        outputs = list(options.outputs) if options.outputs else None
        return partial_graph(graph_of(source, spec, ctx), spec, source.name, outputs, ctx.tensorrt)

    def populate(
        self, network: Any, source: "ModelSource", spec: "BuildSpec", ctx: "ConversionContext"
    ) -> None:
        from trtforge_uff.load import populate

        populate(network, source, spec, ctx)
