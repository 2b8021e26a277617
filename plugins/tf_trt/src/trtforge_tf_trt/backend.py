"""The ``tf_trt`` Backend: cheap checks here, the real work in :mod:`.convert` (lazy)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from trtforge.plugin.backends import Availability, Backend, requires_modules

from trtforge_tf_trt import ROUTE

if TYPE_CHECKING:
    from trtforge.plugin.context import ConversionContext
    from trtforge.models.sources import ModelSource
    from trtforge.conversion.specs import BuildSpec

TF_KINDS = ("keras-model", "keras-file", "tf-savedmodel", "tf-frozen-graph", "tf-graphdef")


class TfTrtBackend(Backend):
    """TensorFlow model -> frozen graph + Grappler -> TensorRT layers, op by op."""

    name = ROUTE
    # After onnx_trt for backend="auto" (the established route); ask for it by name.
    priority = 150
    description = "TensorFlow graphs op by op into TensorRT layers (TF-TRT's idea, no ONNX)"

    def is_available(self) -> Availability:
        return requires_modules("tensorflow")

    def accepts(self, source: "ModelSource") -> bool:
        return source.kind in TF_KINDS

    def validate_options(self, options: Mapping[str, Any]) -> None:
        """Options: ``input_names``/``output_names`` (lists of names), ``signature`` (str),
        ``grappler`` (bool), ``int8_min_cosine`` (INT8 accuracy control's target)."""
        from trtforge.int8.accuracy_control import MIN_COSINE_OPTION, min_cosine_option
        from trtforge.errors import UsageError

        from trtforge_tf_trt.convert import OPTIONS

        known = set(OPTIONS) | {MIN_COSINE_OPTION}
        unknown = sorted(set(options) - known)
        if unknown:
            raise UsageError(f"{ROUTE} does not know the option(s) {', '.join(unknown)}",
                             hint=f"known options: {', '.join(sorted(known))}")
        for key in ("input_names", "output_names"):
            value = options.get(key)
            if value is not None and (isinstance(value, str) or not all(isinstance(v, str) for v in value)):
                raise UsageError(f"option {key} must be a list of names, got {value!r}",
                                 hint=f"e.g. options={{'{key}': ['input:0']}}")
        if "signature" in options and not isinstance(options["signature"], str):
            raise UsageError(f"option signature must be a name, got {options['signature']!r}")
        min_cosine_option(dict(options))

    def populate(self, network: Any, source: "ModelSource", spec: "BuildSpec",
                 ctx: "ConversionContext") -> None:
        from trtforge_tf_trt.convert import populate

        populate(network, source, spec, ctx)

    def partial_graph(self, source: "ModelSource", spec: "BuildSpec", ctx: "ConversionContext") -> Any:
        """Every node with its converter or refusal, for hybrid programs (TensorFlow stages)."""
        from trtforge_tf_trt.convert import prepare
        from trtforge_tf_trt.partial import partial_graph

        with ctx.stage("freeze", "frozen graph + Grappler + coverage"):
            prepared = prepare(source, spec)
        for note in prepared.frozen.notes:
            ctx.note(note)
        ctx.note(prepared.report.summary())
        return partial_graph(prepared)
