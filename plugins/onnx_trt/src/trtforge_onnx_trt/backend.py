"""The ``onnx_trt`` Backend: export -> passes -> precision -> TensorRT's ONNX parser.

Only this module's ``populate`` imports the heavy libraries (through the step modules), so
registering the backend stays cheap.
"""
from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any, Mapping

from trtforge.plugin.backends import Availability, Backend, requires_modules
from trtforge.conversion.specs import Precision

if TYPE_CHECKING:
    from trtforge.conversion.specs import BuildSpec
    from trtforge.plugin.context import ConversionContext
    from trtforge.models.sources import ModelSource

ONNX_KINDS = ("onnx-file", "onnx-model")
TF_KINDS = ("keras-model", "keras-file", "tf-savedmodel", "tf-frozen-graph", "tf-graphdef")


def _importable(*modules: str) -> bool:
    try:
        return all(importlib.util.find_spec(m) is not None for m in modules)
    except (ImportError, ValueError):
        return False


class OnnxTrtBackend(Backend):
    name = "onnx_trt"
    priority = 100
    description = "any model -> ONNX (torch.onnx / tf2onnx) -> passes -> TensorRT ONNX parser"

    def is_available(self) -> Availability:
        return requires_modules("onnx", "onnxruntime", "onnxslim")

    def accepts(self, source: "ModelSource") -> bool:
        if source.kind in ONNX_KINDS:
            return True
        if source.kind == "torch-module":
            return _importable("torch")
        if source.kind in TF_KINDS:
            return _importable("tensorflow", "tf2onnx")
        return False

    def validate_options(self, options: Mapping[str, Any]) -> None:
        from trtforge_onnx_trt.options import RouteOptions

        RouteOptions.parse(options)

    def passes(self) -> list[tuple[str, str]]:
        """The preparation passes, in order, as ``(name, description)``."""
        from trtforge_onnx_trt.passes import describe

        return describe()

    def populate(self, network: Any, source: "ModelSource", spec: "BuildSpec",
                 ctx: "ConversionContext") -> None:
        from trtforge_onnx_trt import exporters, parse, passes, precision, shapes
        from trtforge_onnx_trt.options import RouteOptions

        options = RouteOptions.parse(spec.options)
        passes.check_disabled(options.disable_passes)
        with ctx.stage("export", f"{source.kind} -> ONNX"):
            model = exporters.to_onnx(source, spec, options, ctx)
        shapes.check_names(model, source.name)
        shapes.apply_input_specs(model, spec, ctx, source.name)
        locations = parse.node_locations(model)
        with ctx.stage("passes", ", ".join(n for n in passes.pass_names() if n not in options.disable_passes)):
            model, results = passes.run_passes(model, options.disable_passes)
        changed = [f"{r.name}: {r.change}" for r in results if r.change]
        if changed:
            ctx.note("passes: " + "; ".join(changed))
        ctx.artifacts["onnx_passes"] = [r.__dict__ for r in results]
        if spec.precision is not Precision.FP32:
            with ctx.stage("precision", spec.precision.value):
                model = self._convert_precision(model, source, spec, options, ctx)
        data = model.SerializeToString()  # once: ResNet50 takes ~0.3 s per serialization
        # Until the build only (the parser's weights may point into it), not on every engine;
        # options={"keep_onnx": True} (or TRTFORGE_KEEP_ONNX=1) keeps it for callers that read it.
        ctx.keepalive.append(data)
        if options.keep_onnx:
            ctx.artifacts["onnx"] = data
        with ctx.stage("parse", "TensorRT ONNX parser"):
            flagged = parse.parse_model(ctx.tensorrt, network, model, source.name, locations, data=data,
                                          keepalive=ctx.keepalive)
        ctx.handed_weights = parse.HandedWeights(model)
        if flagged:
            ctx.note(f"{len(flagged)} node(s) flagged unsupported before parsing were parsed anyway: "
                     + "; ".join(p.describe() for p in flagged))

    def _convert_precision(self, model: Any, source: "ModelSource", spec: "BuildSpec",
                           options: Any, ctx: "ConversionContext") -> Any:
        from trtforge_onnx_trt import precision

        if spec.precision in (Precision.FP16, Precision.BF16):
            model, report = precision.to_half(model, spec.precision.value, options.keep_io_types,
                                              options.fp32_ops, ctx)
        else:
            plan = precision.int8_plan(model, spec.calibration, source.fingerprint,
                                       options.int8_min_cosine, ctx)
            ctx.artifacts["calibration_cache"] = plan.cache
            model, report = precision.quantize_int8(model, plan.cache, ctx, plan.unquantized)
        ctx.note(f"{spec.precision.value}: {report.summary()}")
        if report.kept_fp32:
            ctx.artifacts["kept_fp32"] = list(report.kept_fp32)
        return model
