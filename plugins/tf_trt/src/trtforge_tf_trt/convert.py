"""``populate``: freeze, analyse, check coverage, then fill the network node by node."""
from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Mapping, Sequence

from trtforge.errors import ConversionError, TrtforgeError, UsageError

from trtforge_tf_trt import ROUTE
from trtforge_tf_trt.coverage import CoverageReport, assess
from trtforge_tf_trt.graph import TfGraph, tensor_ref
from trtforge_tf_trt.network import Act, NetworkContext
from trtforge_tf_trt.precision import PrecisionPolicy
from trtforge_tf_trt.registry import ConverterRegistry, ConverterSupport, build_registry

log = logging.getLogger(__name__)

OPTIONS = ("input_names", "output_names", "signature", "grappler")


@dataclass
class Prepared:
    """A frozen graph analysed at the network's input shapes, with its coverage verdicts."""

    frozen: Any  # trtforge.models.tf_graphs.FrozenGraph
    graph: TfGraph
    shapes: dict[str, tuple[int, ...]]  # network input shapes by user-facing name
    report: CoverageReport
    specs: dict[str, Any]  # the user's InputSpec of each input that has one, by name


def freeze(source: Any, options: Mapping[str, Any]) -> Any:
    from trtforge.models.tf_graphs import frozen_graph

    return frozen_graph(source, input_names=options.get("input_names"),
                        output_names=options.get("output_names"),
                        signature=options.get("signature", "serving_default"),
                        grappler=bool(options.get("grappler", True)))


def network_shapes(frozen: Any, input_specs: Sequence[Any],
                   matched: dict[str, Any] | None = None) -> tuple[dict[str, tuple[int, ...]], list[str]]:
    """Each input's network shape: from the user's InputSpec (``-1`` where it varies), else the
    model's shape with unknown dimensions set to 1. Returns the notes on what was fixed;
    ``matched`` receives the user's spec of each input by name."""
    by_name = {s.name: s for s in input_specs if s.name}
    unnamed = [s for s in input_specs if not s.name]
    shapes, notes = {}, []
    matched = matched if matched is not None else {}
    for position, tensor in enumerate(frozen.input_specs):
        spec = (by_name.pop(tensor.name, None) or by_name.pop(tensor.tensor, None)
                # "x" for the op's first output "x:0", as TensorFlow users name inputs
                or by_name.pop(tensor.name.removesuffix(":0"), None))
        if spec is None and len(unnamed) == len(input_specs) and position < len(unnamed):
            spec = unnamed[position]
        if spec is not None:
            matched[tensor.name] = spec
            shape = tuple(int(d) for d in spec.network_shape())
            if tensor.shape is not None and (len(shape) != len(tensor.shape) or any(
                    m is not None and d >= 0 and d != m for d, m in zip(shape, tensor.shape))):
                raise UsageError(f"input {tensor.name!r}: shape {shape} does not fit the model's {tensor.shape}",
                                 hint="fixed dimensions must match the model; -1 marks those that vary")
        elif tensor.shape is None:
            raise UsageError(f"input {tensor.name!r} has an unknown rank in the model",
                             hint=f"give its shape: --input {tensor.name}:{tensor.dtype}:1x...")
        else:
            shape = tuple(1 if d is None else int(d) for d in tensor.shape)
            if None in tensor.shape:
                notes.append(f"input {tensor.name!r}: unknown dimensions of {tensor.shape} fixed to 1 "
                             f"(give an InputSpec with min/opt/max for a dynamic batch)")
        shapes[tensor.name] = shape
    if by_name:
        raise UsageError(f"input spec names {sorted(by_name)} match no model input",
                         hint=f"the model's inputs are {frozen.input_names}")
    return shapes, notes


def prepare(source: Any, spec: Any, registry: ConverterRegistry | None = None,
            options: Mapping[str, Any] | None = None,
            stage: Callable[[str, str], ContextManager[Any]] | None = None) -> Prepared:
    """Freeze ``source`` and give every node a verdict (nothing is built); ``stage``: the
    conversion's timer (``ctx.stage``), when there is one."""
    stage = stage or (lambda name, detail: nullcontext())
    options = options if options is not None else spec.options
    with stage("freeze", "frozen graph + Grappler"):
        frozen = freeze(source, {k: v for k, v in options.items() if k in OPTIONS})
    matched: dict[str, Any] = {}
    shapes, notes = network_shapes(frozen, spec.inputs, matched)
    with stage("coverage", "every node has a converter"):
        by_tensor = {t.tensor: shapes[t.name] for t in frozen.input_specs}
        graph = TfGraph(frozen.graph_def, frozen.inputs, frozen.outputs, by_tensor)
        report = assess(graph, registry or build_registry())
    frozen.notes = tuple(frozen.notes) + tuple(notes)
    return Prepared(frozen, graph, shapes, report, matched)


def populate(network: Any, source: Any, spec: Any, ctx: Any) -> None:
    """The route's ``Backend.populate``: model in, network filled."""
    prepared = prepare(source, spec, stage=ctx.stage)
    frozen, graph, shapes, report = prepared.frozen, prepared.graph, prepared.shapes, prepared.report
    for note in frozen.notes:
        ctx.note(note)
    ctx.artifacts["tf_trt_coverage"] = report.to_dict()
    ctx.note(report.summary())
    report.raise_if_incomplete()
    policy = PrecisionPolicy.of(spec.precision)
    quantizer = None
    if policy.quantized:
        from trtforge_tf_trt.quant import int8_quantizer

        quantizer = int8_quantizer(source, frozen, graph, spec, ctx, shapes)
    net = NetworkContext(network, ctx.tensorrt, policy, quantizer)
    net.reserve(t.name for t in frozen.output_specs)
    with ctx.stage("convert", f"{len(report.nodes)} nodes -> TensorRT layers"):
        fill_network(net, frozen, graph, report.chosen, shapes)
    ctx.keepalive.append(net.keepalive)
    ctx.note(f"{network.num_layers} TensorRT layers, precision policy {policy.precision.value}, "
             f"{net.transposes} layout transpose(s)"
             + (f", {quantizer.inserted} activation Q/DQ pair(s)" if quantizer is not None else ""))


def fill_network(net: NetworkContext, frozen: Any, graph: TfGraph, chosen: dict[str, ConverterSupport],
                 shapes: Mapping[str, Sequence[int]]) -> None:
    values: dict[str, Any] = {}
    for tensor in frozen.input_specs:
        values[tensor.tensor] = add_input(net, tensor.name, tensor.dtype, shapes[tensor.name])
    convert_nodes(net, graph, chosen, graph.converted_nodes(), values)
    for tensor in frozen.output_specs or []:
        mark_output(net, tensor.name, tensor.dtype, _value(net, graph, values, tensor.tensor))


def convert_nodes(net: NetworkContext, graph: TfGraph, chosen: dict[str, ConverterSupport],
                  nodes: Sequence[Any], values: dict[str, Any]) -> None:
    """Run the converters of ``nodes`` (in order); ``values`` maps ``node:index`` to values."""
    for node in nodes:
        net.node = node
        inputs = [_value(net, graph, values, i) for i in node.inputs]
        result = _run_converter(net, node, chosen[node.name], inputs)
        outputs = result if isinstance(result, tuple) else (result,)
        for index, value in enumerate(outputs):
            if value is not None:
                values[f"{node.name}:{index}"] = value
    net.node = None


def _value(net: NetworkContext, graph: TfGraph, values: dict[str, Any], tensor: str) -> Any:
    node, index = tensor_ref(tensor)
    key = f"{node}:{index}"
    if key in values:
        return values[key]
    constant = graph.constant(key)
    if constant is not None:
        return constant
    raise ConversionError(f"no value for tensor {key} (its converter produced none)", route=ROUTE,
                          hint="this is a bug in that node's converter")


def _run_converter(net: NetworkContext, node: Any, support: ConverterSupport, inputs: list[Any]) -> Any:
    try:
        result = support.function(net, node, inputs)
    except TrtforgeError:
        raise
    except Exception as exc:
        raise ConversionError(
            f"converter {support.name} failed on node {node.name} ({node.op}): {type(exc).__name__}: {exc}",
            route=ROUTE,
            hint="this is a bug in that converter" + (
                f" (registered by plugin {support.origin})" if support.origin else "")) from exc
    _check_result(node, result)
    return result


def _check_result(node: Any, result: Any) -> None:
    """Catch shape mistakes at the node that made them, not at build time."""
    first = result[0] if isinstance(result, tuple) else result
    expected = node.output_shape(0)
    if not isinstance(first, Act) or expected is None:
        return
    got = first.logical_shape()
    if len(got) != len(expected) or any(
            g >= 0 and w is not None and w >= 0 and g != w for g, w in zip(got, expected)):
        raise ConversionError(
            f"node {node.name} ({node.op}): converter produced shape {got}, TensorFlow says "
            f"{tuple(expected)}", route=ROUTE, hint="this is a bug in that op's converter")


def add_input(net: NetworkContext, name: str, dtype: str, shape: Sequence[int]) -> Act:
    """A network input in the model's dtype, cast to the compute dtype if it is a float."""
    if dtype == "float64":
        raise ConversionError(f"input {name!r} is float64, which TensorRT has not",
                              route=ROUTE, hint="cast the model's input to float32")
    return Act(net.add_input(name, dtype, shape))


def mark_output(net: NetworkContext, name: str, dtype: str, value: Any) -> None:
    """Mark ``value`` as the output ``name`` in TensorFlow's axis order and in ``dtype``."""
    if not isinstance(value, Act):
        out = net.constant(value, f"{name}/constant", dtype)
    else:
        out = net.logical(value, f"{name}/tf_order")
    wanted = net.native(dtype) if dtype != "float64" else "float32"
    if net.dtype_name(out) != wanted:
        out = net.cast(out, wanted, f"{name}/to_{wanted}")
    net.mark_output(out, name)  # name is reserved (NetworkContext.reserve): no other tensor has it
