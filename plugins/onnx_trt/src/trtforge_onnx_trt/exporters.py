"""Every accepted model kind -> ``onnx.ModelProto``.

ONNX files are loaded (external data included) and checked; PyTorch modules go through
``torch.onnx.export`` (dynamo exporter first, TorchScript exporter as fallback); Keras models,
SavedModels and frozen GraphDefs go through tf2onnx with their input and output names
detected (overridable with the ``input_names`` / ``output_names`` options). TF models keep
their NHWC layout unless ``inputs_as_nchw`` names inputs to transpose.
"""
from __future__ import annotations

import inspect
import io
import logging
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from trtforge.errors import BackendUnavailableError, ConversionError, ModelSourceError, UsageError

from trtforge_onnx_trt.opsets import default_opset
from trtforge_onnx_trt.options import RouteOptions

if TYPE_CHECKING:
    from trtforge.conversion.specs import BuildSpec
    from trtforge.plugin.context import ConversionContext
    from trtforge.models.sources import ModelSource

log = logging.getLogger(__name__)

ONNX_KINDS = ("onnx-file", "onnx-model")
TORCH_KINDS = ("torch-module",)
TF_KINDS = ("keras-model", "keras-file", "tf-savedmodel", "tf-frozen-graph", "tf-graphdef")
TF_EXTRA = "pip install 'trtforge-onnx-trt[tf]'"
TORCH_EXTRA = "pip install 'trtforge-onnx-trt[torch]'"


# Recent exports, so converting one model at several precisions (compare, tests) exports it
# once: (kind, fingerprint, export options, input specs) -> serialized ONNX.
_RECENT: "OrderedDict[tuple[Any, ...], tuple[bytes, list[str]]]" = OrderedDict()
_RECENT_SIZE = 2
DYNAMO_MIN_OPSET = 18  # torch.onnx.export(dynamo=True) writes opset 18 or newer


def _export_key(source: "ModelSource", spec: "BuildSpec", options: RouteOptions) -> tuple[Any, ...]:
    return (source.kind, source.fingerprint, options.input_names, options.output_names, options.opset,
            options.inputs_as_nchw, options.signature, options.torch_exporter, spec.inputs,
            tuple(tuple(getattr(x, "shape", ())) for x in spec.example_inputs or ()))


def to_onnx(source: "ModelSource", spec: "BuildSpec", options: RouteOptions,
            ctx: "ConversionContext") -> Any:
    """The source model as an ``onnx.ModelProto`` (raises with the fix when it cannot be)."""
    from trtforge_onnx_trt.opsets import fit_opset

    facts = ctx.tensorrt.facts
    if source.kind in ONNX_KINDS:
        return fit_opset(load_onnx(source), facts.max_onnx_opset, source.name, facts.label, ctx)
    import onnx

    key = _export_key(source, spec, options)
    if key in _RECENT:
        _RECENT.move_to_end(key)
        data, notes = _RECENT[key]
        for note in notes:
            ctx.note(note)
        ctx.note("export reused from an earlier conversion of the same model in this process")
        return onnx.load_from_string(data)
    before = len(ctx.notes)
    model = fit_opset(_export(source, spec, options, ctx), facts.max_onnx_opset, source.name,
                      facts.label, ctx)
    _RECENT[key] = (model.SerializeToString(), list(ctx.notes[before:]))
    while len(_RECENT) > _RECENT_SIZE:
        _RECENT.popitem(last=False)
    return model


def _export(source: "ModelSource", spec: "BuildSpec", options: RouteOptions,
            ctx: "ConversionContext") -> Any:
    kind = source.kind
    from trtforge_onnx_trt.opsets import export_opset

    # Export at the newest opset the installed parser reads, never newer (tf2onnx and the
    # TorchScript exporter honour the number; the dynamo exporter needs 18+).
    options = replace(options, opset=export_opset(options.opset, ctx.tensorrt.facts.max_onnx_opset))
    if kind in TORCH_KINDS:
        return export_torch(source, spec, options, ctx)
    if kind in TF_KINDS:
        tf, tf2onnx = import_tensorflow(kind)
        if kind in ("keras-model", "keras-file"):
            return export_keras(source, options, ctx, tf, tf2onnx)
        if kind == "tf-savedmodel":
            return export_savedmodel(source, options, ctx, tf, tf2onnx)
        from trtforge.models.tf_graphs import read_graphdef

        graph_def = source.model if kind == "tf-graphdef" else read_graphdef(source.path, tf)
        return export_graphdef(graph_def, source.name, options, ctx, tf, tf2onnx)
    raise ConversionError(
        f"onnx_trt cannot convert {source.name}: it takes ONNX, PyTorch, Keras and TensorFlow "
        f"models, not {kind}", route="onnx_trt",
        hint="pick a route for this kind with --backend auto (see `trtforge plugins`)")


# --- ONNX -------------------------------------------------------------------------------
def load_onnx(source: "ModelSource") -> Any:
    import onnx

    if source.kind == "onnx-model":
        model = source.model
    else:
        path = Path(source.path or source.model)
        try:
            model = onnx.load(str(path), load_external_data=True)
        except Exception as exc:  # protobuf DecodeError, missing external data file, ...
            raise ModelSourceError(
                f"{path} is not a readable ONNX model: {type(exc).__name__}: {exc}",
                hint="the file may be truncated or not ONNX; export it again") from None
    from trtforge_onnx_trt.shapes import check_names

    check_names(model, source.name)  # before the checker, whose message is less specific
    try:
        # A file is checked from disk: checking the in-memory proto would serialize it again.
        onnx.checker.check_model(str(source.path) if source.kind == "onnx-file" else model)
    except ValueError:
        pass  # > 2 GB in memory: the checker needs a path; the parser checks it anyway
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid model"
        raise ModelSourceError(
            f"{source.name} is not a valid ONNX model: {first}",
            hint="the file may be truncated or written by a broken exporter; export it again "
            "(onnx.checker.check_model shows the details)") from None
    return model


# --- PyTorch ----------------------------------------------------------------------------
def _torch_examples(source: "ModelSource", spec: "BuildSpec") -> tuple[Any, ...]:
    import torch

    given = spec.example_inputs or source.example_inputs
    if given:
        return tuple(torch.as_tensor(x) if not isinstance(x, torch.Tensor) else x for x in given)
    if not spec.inputs:
        raise UsageError(
            f"{source.name}: a PyTorch module needs example inputs or input shapes to be exported",
            hint="pass inputs=[torch.randn(1, 3, 224, 224)] or InputSpec('x', shape=(1, 3, 224, 224))")
    examples = []
    for item in spec.inputs:
        shape = list(item.opt_shape())
        profile = item.profiles[0]
        # An example dimension of 1 makes torch.export specialise it; dynamic ones use 2+.
        for d, (lo, hi) in enumerate(zip(profile.min, profile.max)):
            if lo != hi and shape[d] == 1:
                shape[d] = min(2, hi)
        dtype = getattr(torch, item.dtype)
        examples.append(torch.randn(shape).to(dtype) if dtype.is_floating_point
                        else torch.zeros(shape, dtype=dtype))
    return tuple(examples)


def _torch_input_names(module: Any, count: int, spec: "BuildSpec", options: RouteOptions) -> list[str]:
    if options.input_names:
        return list(options.input_names)[:count]
    named = [s.name for s in spec.inputs if s.name]
    if len(named) == count:
        return named
    try:
        params = [p for p in inspect.signature(module.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    if len(params) >= count:
        return [p.name for p in params[:count]]
    return [f"input_{i}" for i in range(count)]


def _dynamic_dims(spec: "BuildSpec", names: Sequence[str]) -> dict[str, dict[int, tuple[int, int]]]:
    """Per input name: dimension -> (min, max) for the dimensions the InputSpecs let vary."""
    dims: dict[str, dict[int, tuple[int, int]]] = {}
    for position, name in enumerate(names):
        item = spec.input_named(name, position)
        if item is None:
            continue
        for p in item.profiles:
            for d, (lo, hi) in enumerate(zip(p.min, p.max)):
                if lo != hi:
                    old = dims.setdefault(name, {}).get(d, (lo, hi))
                    dims[name][d] = (min(old[0], lo), max(old[1], hi))
        if len(item.profiles) > 1:
            mins = {p.min for p in item.profiles}
            for d in range(len(item.profiles[0].min)):
                values = [p.min[d] for p in item.profiles] + [p.max[d] for p in item.profiles]
                if len(mins) > 1 and min(values) != max(values):
                    dims.setdefault(name, {})[d] = (min(values), max(values))
    return dims


def export_torch(source: "ModelSource", spec: "BuildSpec", options: RouteOptions,
                 ctx: "ConversionContext") -> Any:
    from trtforge.models.compat import torch_after_tensorflow

    torch_after_tensorflow()
    try:
        import torch
    except ImportError:
        raise BackendUnavailableError(
            "converting a PyTorch module needs torch", hint=TORCH_EXTRA) from None
    module = source.model
    module.eval()
    examples = _torch_examples(source, spec)
    names = _torch_input_names(module, len(examples), spec, options)
    dynamic = _dynamic_dims(spec, names)
    outputs = list(options.output_names) if options.output_names else None
    errors = []
    facts = ctx.tensorrt.facts
    # The dynamo exporter writes opset 18+; a parser that reads older opsets only gets the
    # TorchScript exporter's output (the version converter cannot bring every 18+ op back).
    old_parser = facts.max_onnx_opset < DYNAMO_MIN_OPSET
    why_torchscript = (f"the ONNX parser of {facts.label} reads opsets up to "
                       f"{facts.max_onnx_opset}; the dynamo exporter writes {DYNAMO_MIN_OPSET}+")
    use_dynamo = options.torch_exporter == "dynamo" or (options.torch_exporter == "auto" and not old_parser)
    if use_dynamo:
        try:
            model = _export_dynamo(torch, module, examples, names, outputs, dynamic, options.opset)
            ctx.note(f"exported with torch.onnx.export(dynamo=True), opset {default_opset(model)}")
            return model
        except Exception as exc:  # the exporter raises many kinds; the fallback is the answer
            errors.append(f"dynamo exporter: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")
            if options.torch_exporter == "dynamo":
                raise ConversionError(
                    f"torch.onnx.export(dynamo=True) failed for {source.name}: {errors[-1]}",
                    route="onnx_trt", hint="try options={'torch_exporter': 'torchscript'}") from exc
            log.info("%s; falling back to the TorchScript exporter", errors[-1])
    try:
        model = _export_torchscript(torch, module, examples, names, outputs, dynamic, options.opset)
    except Exception as exc:
        errors.append(f"TorchScript exporter: {type(exc).__name__}: {exc}")
        raise ConversionError(
            f"cannot export {source.name} to ONNX: " + "; ".join(errors), route="onnx_trt",
            hint="check that the module runs on the example inputs; --debug shows the traceback",
        ) from exc
    why = (f" (dynamo exporter failed: {errors[0]})" if errors
           else f" ({why_torchscript})" if old_parser and options.torch_exporter == "auto" else "")
    ctx.note(f"exported with the TorchScript ONNX exporter, opset {options.opset}{why}")
    return model


def _export_dynamo(torch: Any, module: Any, examples: tuple[Any, ...], names: list[str],
                   outputs: list[str] | None, dynamic: dict[str, dict[int, tuple[int, int]]],
                   opset: int) -> Any:
    dynamic_shapes = None
    if dynamic:
        dynamic_shapes = tuple(
            {d: torch.export.Dim(f"{name}_dim{d}", min=lo, max=hi) for d, (lo, hi) in dynamic.get(name, {}).items()}
            or None
            for name in names
        )
    with torch.no_grad():
        program = torch.onnx.export(
            module, examples, dynamo=True, opset_version=max(opset, DYNAMO_MIN_OPSET), input_names=names,
            output_names=outputs, dynamic_shapes=dynamic_shapes, verbose=False, report=False,
        )
    return program.model_proto


def _export_torchscript(torch: Any, module: Any, examples: tuple[Any, ...], names: list[str],
                        outputs: list[str] | None, dynamic: dict[str, dict[int, tuple[int, int]]],
                        opset: int) -> Any:
    import onnx

    buffer = io.BytesIO()
    axes = {name: {d: f"{name}_dim{d}" for d in dims} for name, dims in dynamic.items()}
    with torch.no_grad():
        torch.onnx.export(module, examples, buffer, dynamo=False, opset_version=opset,
                          input_names=names, output_names=outputs, dynamic_axes=axes or None,
                          do_constant_folding=True)
    return onnx.load_from_string(buffer.getvalue())


# --- TensorFlow -------------------------------------------------------------------------
def import_tensorflow(kind: str) -> tuple[Any, Any]:
    """TensorFlow and tf2onnx, or an error that names the extra to install."""
    try:
        import tensorflow as tf
        import tf2onnx
    except ImportError as exc:
        raise BackendUnavailableError(
            f"onnx_trt needs TensorFlow and tf2onnx to convert a {kind} model "
            f"({type(exc).__name__}: {exc})",
            hint=f"install the [tf] extra: {TF_EXTRA}") from None
    return tf, tf2onnx


def export_keras(source: "ModelSource", options: RouteOptions, ctx: "ConversionContext",
                 tf: Any, tf2onnx: Any) -> Any:
    from trtforge.models.tf_graphs import keras_output_names, keras_serving_function, load_keras

    model = load_keras(source.path) if source.kind == "keras-file" else source.model
    names = list(options.input_names) if options.input_names else [t.name for t in model.inputs]
    if len(names) != len(model.inputs):
        raise UsageError(f"{source.name} has {len(model.inputs)} inputs but {len(names)} input names were given")
    outputs = list(options.output_names) if options.output_names else keras_output_names(model)
    if len(outputs) != len(model.outputs):
        raise UsageError(f"{source.name} has {len(model.outputs)} outputs but {len(outputs)} output names were given")

    # A tf.function returning {name: tensor} gives tf2onnx the output names directly;
    # tf2onnx's from_keras looks names up through model.output_names, which Keras 3
    # Sequential models fill with internal tensor names it cannot find.
    serve = keras_serving_function(model, names, outputs, tf)
    with tf.device("/cpu:0"):
        onnx_model, _ = tf2onnx.convert.from_function(
            serve, input_signature=list(serve.input_signature), opset=options.opset,
            inputs_as_nchw=list(options.inputs_as_nchw) if options.inputs_as_nchw else None)
    ctx.note(f"exported the Keras model with tf2onnx, opset {options.opset}, inputs {names}, outputs {outputs}")
    return onnx_model


def export_savedmodel(source: "ModelSource", options: RouteOptions, ctx: "ConversionContext",
                      tf: Any, tf2onnx: Any) -> Any:
    from tf2onnx import tf_loader

    path = str(source.path)
    try:
        graph_def, inputs, outputs, renames = tf_loader.from_saved_model(
            path, list(options.input_names) if options.input_names else None,
            list(options.output_names) if options.output_names else None,
            tag="serve", signatures=[options.signature], return_tensors_to_rename=True)
    except Exception as exc:
        raise ModelSourceError(
            f"cannot load the SavedModel {path} (signature {options.signature!r}): "
            f"{type(exc).__name__}: {exc}",
            hint="pick the signature with options={'signature': NAME}") from None
    with tf.device("/cpu:0"):
        onnx_model, _ = tf2onnx.convert.from_graph_def(
            graph_def, name=Path(path).name, input_names=inputs, output_names=outputs,
            opset=options.opset, tensors_to_rename=renames,
            inputs_as_nchw=list(options.inputs_as_nchw) if options.inputs_as_nchw else None)
    ctx.note(f"exported the SavedModel signature {options.signature!r} with tf2onnx, opset "
             f"{options.opset}, inputs {inputs}, outputs {outputs}")
    return onnx_model


def export_graphdef(graph_def: Any, name: str, options: RouteOptions, ctx: "ConversionContext",
                    tf: Any, tf2onnx: Any) -> Any:
    from trtforge.models.tf_graphs import detect_graph_io

    inputs, outputs = detect_graph_io(graph_def)
    if options.input_names:
        inputs = list(options.input_names)
    if options.output_names:
        outputs = list(options.output_names)
    if not inputs or not outputs:
        raise ConversionError(
            f"cannot tell the inputs/outputs of the graph {name} (found inputs {inputs}, outputs {outputs})",
            route="onnx_trt", hint="give them: options={'input_names': ['input:0'], 'output_names': ['logits:0']}")
    known = {n.name for n in graph_def.node}
    missing = [t for t in inputs + outputs if t.split(":")[0] not in known]
    if missing:
        raise UsageError(f"tensors {missing} are not in the graph {name}",
                         hint="write TF tensor names as NODE:INDEX, e.g. input:0")
    with tf.device("/cpu:0"):
        onnx_model, _ = tf2onnx.convert.from_graph_def(
            graph_def, name=name, input_names=inputs, output_names=outputs, opset=options.opset,
            inputs_as_nchw=list(options.inputs_as_nchw) if options.inputs_as_nchw else None)
    ctx.note(f"exported the TF graph with tf2onnx, opset {options.opset}, inputs {inputs}, outputs {outputs}")
    return onnx_model
