"""Fill a TensorRT network from a UFF graph: inputs, converters in order, outputs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from trtforge.errors import ConversionError, UsageError
from trtforge.plugin.network_builder import PrecisionPolicy
from trtforge.conversion.specs import Precision

from trtforge_uff.format.graph import UffGraph
from trtforge_uff.format.values import DType
from trtforge_uff.importer import coverage
from trtforge_uff.importer.network import ImportContext
from trtforge_uff.importer.registry import ConverterRegistry, build_registry

log = logging.getLogger(__name__)


@dataclass
class ImportResult:
    inputs: list[str]
    outputs: list[str]
    layers: int
    notes: list[str] = field(default_factory=list)
    keepalive: list[Any] = field(default_factory=list)


def _input_shape(node: Any, specs: dict[str, Any], unnamed: list[Any], notes: list[str]) -> tuple[int, ...]:
    spec = specs.get(node.id) or (unnamed.pop(0) if unnamed else None)
    declared = [int(d) for d in node.get("shape", [])]
    if spec is not None:
        shape = tuple(spec.network_shape())
        if len(shape) != len(declared) or any(d >= 0 and s >= 0 and d != s for d, s in zip(declared, shape)):
            raise UsageError(
                f"input {node.id!r}: the given shape {list(shape)} does not fit the UFF "
                f"Input shape {declared}",
                hint="give a shape of the same rank; -1 dims may take any size",
            )
        return shape
    if any(d < 0 for d in declared):
        fixed = tuple(1 if d < 0 else d for d in declared)
        notes.append(
            f"input {node.id}: UFF shape {declared} has unknown sizes, built for "
            f"{list(fixed)} (give inputs=[...] for other shapes)"
        )
        return fixed
    return tuple(declared)


def compute_policy(compute: str) -> PrecisionPolicy:
    """The policy of a network computing floats in ``compute`` (uff reads only the dtype: on
    TensorRT 8.x an fp16 build computes in float32 and core sets the builder flag)."""
    precision = Precision.FP16 if compute == "float16" else Precision.FP32
    return PrecisionPolicy(precision, compute)


def import_graph(
    network: Any,
    tensorrt: Any,
    graph: UffGraph,
    *,
    input_specs: Sequence[Any] = (),
    outputs: list[str] | None = None,
    registry: ConverterRegistry | None = None,
    origin: str = "the UFF graph",
    compute: str = "float32",
    input_layouts: dict[str, tuple[tuple[int, ...], list[int]]] | None = None,
) -> ImportResult:
    """Convert every node the outputs need; raises listing every unsupported node first.
    ``compute``: the float dtype inside the network (inputs and outputs stay float32).
    ``input_layouts``: ``{input: (network shape, perm)}`` -- the network input takes that shape
    and a transpose by ``perm`` gives the UFF Input's layout (UffParser's NCHW inputs)."""
    registry = registry or build_registry()
    known = graph.by_id()
    if outputs is not None:
        missing = [o for o in outputs if coverage.base_id(o) not in known]
        if missing:
            raise UsageError(
                f"output(s) {', '.join(missing)} are no nodes of {origin}",
                hint="name UFF node ids (see `trtforge uff inspect`)",
            )
        marks = [coverage.base_id(o) for o in outputs]
    else:
        marks = [n.id for n in graph.nodes if n.op == "MarkOutput"]
    order = coverage.needed_order(graph, marks)
    chosen, gaps = coverage.plan(graph, registry, order)
    coverage.require_covered(gaps, origin)
    ctx = ImportContext(network, tensorrt, compute_policy(compute), graph=graph)
    specs = {s.name: s for s in input_specs if s.name}
    unnamed = [s for s in input_specs if not s.name]
    notes: list[str] = []
    values: dict[str, Any] = {}
    arity: dict[str, int] = {}  # plugin node id -> its outputs, where more than one
    inputs: list[str] = []
    output_names: list[str] = []
    for node in order:
        ctx.node = node
        if node.op == "Input":
            dtype = node.get("dtype")
            name = dtype.name if isinstance(dtype, DType) else "float32"
            layout = (input_layouts or {}).get(node.id)
            shape = layout[0] if layout else _input_shape(node, specs, unnamed, notes)
            tensor = network.add_input(node.id, tensorrt.trt_dtype(name), shape)
            if layout and layout[1] != list(range(len(shape))):
                tensor = ctx.shuffle(tensor, perm=layout[1], name=f"{node.id}/to_uff_layout")
            if name == "float32" and compute != "float32":  # inputs stay fp32; compute in fp16
                tensor = ctx.cast(tensor, compute, f"{node.id}/to_{compute}")
            values[node.id] = tensor
            inputs.append(node.id)
        elif node.op == "Const":
            values[node.id] = graph.const_value(node)
        elif node.op == "MarkOutput":
            output_names.extend(_mark_node(ctx, values, node.inputs[0]))
        else:
            args = _arguments(values, arity, node.inputs)
            try:
                result = chosen[node.id].function(ctx, node, args)
            except ConversionError:
                raise
            except Exception as exc:
                raise ctx.error(
                    f"{type(exc).__name__}: {exc}",
                    hint="this is a bug in the converter or an unusual node; "
                    "report it with `trtforge uff inspect` output",
                ) from exc
            if isinstance(result, (list, tuple)):
                if node.op.startswith("_") and len(result) > 1:
                    arity[node.id] = len(result)
                values[node.id] = result[0]
                for k, extra in enumerate(result[1:], start=1):
                    values[f"{node.id}:{k}"] = extra
            else:
                values[node.id] = result
    for name in outputs or ():
        output_names.extend(_mark_node(ctx, values, name))
    unused = [s.name for s in input_specs if s.name and s.name not in inputs]
    if unused:
        raise UsageError(
            f"input(s) {', '.join(unused)} given, but {origin} has no such Input node",
            hint=f"its inputs: {', '.join(inputs) or 'none'}",
        )
    return ImportResult(inputs, output_names, network.num_layers, notes, ctx.keepalive)


def _mark_node(ctx: ImportContext, values: dict[str, Any], name: str) -> list[str]:
    """Mark ``name``; a plugin node marked whole (``NMS``) gives all its outputs, as TensorRT's
    UFF parser does (NMS_TRT: detections ``NMS`` and the kept count ``NMS_1``)."""
    if name in values:
        marked = [_mark(ctx, values[name], name)]
    else:
        marked = [_mark(ctx, values[coverage.base_id(name)], coverage.base_id(name))]
    node = ctx.graph.by_id().get(name)
    if node is not None and node.is_plugin:
        k = 1
        while f"{name}:{k}" in values:
            marked.append(_mark(ctx, values[f"{name}:{k}"], f"{name}_{k}"))
            k += 1
    return marked


def _mark(ctx: ImportContext, value: Any, name: str) -> str:
    ctx.node = ctx.graph.by_id()[coverage.base_id(name)]
    if not ctx.is_tensor(value):
        value = ctx.constant(np.asarray(value), f"{name}/value")
    is_input = any(
        ctx.network.get_input(i) is value or ctx.network.get_input(i).name == value.name
        for i in range(ctx.network.num_inputs)
    )
    if value.is_network_output or is_input:
        value = ctx.finish(ctx.network.add_identity(value), f"{name}/output")
    if ctx.compute != "float32" and ctx.dtype_name(value) == ctx.compute:  # outputs stay fp32
        if value.name == name:
            value.name = f"{name}/{ctx.compute}"  # the reduced tensor; its layer keeps its name
        layer = ctx.network.add_cast(value, ctx.tensorrt.trt_dtype("float32"))
        layer.name = ctx.unique(f"{name}/to_float32")
        value = layer.get_output(0)
        value.name = name
    if value.name != name and not value.is_network_output:
        value.name = name
    ctx.network.mark_output(value)
    return value.name


def _arguments(values: dict[str, Any], arity: dict[str, int], inputs: Any) -> list[Any]:
    """A node's input tensors. A bare reference to a plugin node with several outputs is all
    of them, in order (NVIDIA's files: ``concat_priorbox`` <- ``GridAnchor``, its numLayers
    outputs), unless the node names it more than once (then the k-th mention is output k);
    ``name:k`` is output k (older trtforge files)."""
    names = list(inputs)
    seen: dict[str, int] = {}
    args: list[Any] = []
    for name in names:
        if name in arity and names.count(name) == 1:
            args.append(values[name])
            args.extend(values[f"{name}:{k}"] for k in range(1, arity[name]))
        elif name in arity:
            k = seen.get(name, 0)
            seen[name] = k + 1
            args.append(values[name] if k == 0 else values[f"{name}:{k}"])
        else:
            args.append(values[name] if name in values else values[coverage.base_id(name)])
    return args
