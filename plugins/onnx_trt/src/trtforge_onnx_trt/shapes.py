"""Graph input shapes from the user's InputSpecs, and checks on input/output names.

Writing the requested shapes into the ONNX inputs before the passes lets onnxslim fold the
shape arithmetic that only depends on fixed dimensions. A dynamic batch with no InputSpec is
fixed to 1 (with a note), so plain ``trtforge convert frozen.pb`` works; any other dynamic
dimension without a range is left for core to report with the ``--input`` hint.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trtforge.errors import ConversionError, UsageError

if TYPE_CHECKING:
    from trtforge.conversion.specs import BuildSpec
    from trtforge.plugin.context import ConversionContext


def graph_inputs(model: Any) -> list[Any]:
    """Real inputs (old IR versions also list initializers as inputs)."""
    initializers = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in initializers]


def check_names(model: Any, source_name: str) -> None:
    """TensorRT binds inputs and outputs by name: every one needs a unique, non-empty name."""
    for what, values in (("input", graph_inputs(model)), ("output", list(model.graph.output))):
        for k, value in enumerate(values):
            if not value.name:
                raise ConversionError(
                    f"{source_name}: graph {what} #{k} has no name; TensorRT binds {what}s by name",
                    route="onnx_trt",
                    hint=f"name every {what} when exporting (e.g. {what}_names=[...] in "
                    f"torch.onnx.export) or set graph.{what}[{k}].name in the ONNX file")
        names = [v.name for v in values]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConversionError(f"{source_name}: duplicate graph {what} names {dupes}", route="onnx_trt")


def _dims(value: Any) -> list[Any]:
    return list(value.type.tensor_type.shape.dim)


def apply_input_specs(model: Any, spec: "BuildSpec", ctx: "ConversionContext", source_name: str) -> None:
    inputs = graph_inputs(model)
    names = [i.name for i in inputs]
    named = {s.name for s in spec.inputs if s.name}
    unknown = sorted(named - set(names))
    if unknown:
        raise UsageError(f"input spec names {unknown} match no input of {source_name}",
                         hint=f"the model's inputs are {names}")
    for position, value in enumerate(inputs):
        item = spec.input_named(value.name, position)
        dims = _dims(value)
        if item is None:
            dynamic = [d for d, dim in enumerate(dims) if not dim.HasField("dim_value")]
            if dynamic == [0] and len(dims) > 1:
                dims[0].Clear()
                dims[0].dim_value = 1
                ctx.note(f"input {value.name}: dynamic batch fixed to 1 (give --input "
                         f"{value.name}:MIN,OPT,MAX shapes for a range)")
            continue
        wanted = item.network_shape()
        if len(wanted) != len(dims):
            raise UsageError(
                f"input {value.name} of {source_name} has rank {len(dims)}, the input spec gives {wanted}",
                hint="give one size per dimension")
        for d, (dim, size) in enumerate(zip(dims, wanted)):
            if dim.HasField("dim_value") and dim.dim_value > 0:
                if size >= 0 and size != dim.dim_value:
                    raise UsageError(
                        f"input {value.name} of {source_name}: dimension {d} is {dim.dim_value} "
                        f"in the model, the input spec asks for {size}",
                        hint="fixed dimensions must match the model")
                continue
            if size >= 0:
                dim.Clear()
                dim.dim_value = size
            elif not dim.HasField("dim_param"):
                dim.dim_param = f"{value.name}_dim{d}"
