"""``populate``: capture, coverage, (calibrate), then fill the network node by node."""
from __future__ import annotations

import logging
from typing import Any

from trtforge.errors import ConversionError, TrtforgeError

from trtforge_torch2trt import ROUTE
from trtforge_torch2trt.capture import Captured, capture, module_path
from trtforge_torch2trt.converters import CONST
from trtforge_torch2trt.coverage import plan
from trtforge_torch2trt.fold import batch_norm_folds
from trtforge_torch2trt.network import NetworkContext, ShapeScalar, TORCH_TO_TRT
from trtforge_torch2trt.precision import PrecisionPolicy
from trtforge_torch2trt.registry import ConverterRegistry, ConverterSupport, build_registry

log = logging.getLogger(__name__)


def populate(network: Any, source: Any, spec: Any, ctx: Any) -> None:
    """The route's ``Backend.populate``: model in, network filled."""
    with ctx.stage("capture", "torch.export -> core ATen"):
        captured = capture(source.model, spec)
    registry = build_registry()
    with ctx.stage("coverage", "every op has a converter"):
        chosen = plan(captured.graph, registry, set(captured.constants))
    policy = PrecisionPolicy.of(spec.precision)
    quantizer = None
    if policy.quantized:
        from trtforge_torch2trt.calibrate import int8_plan
        from trtforge_torch2trt.impl.quant import Quantizer

        plan_int8 = int8_plan(captured, source, spec, ctx)  # stages "calibrate" and "accuracy"
        quantizer = Quantizer.for_graph(captured, plan_int8.ranges, plan_int8.unquantized,
                                        plan_int8.residuals)
    net = NetworkContext(network, ctx.tensorrt, policy, quantizer, folds=batch_norm_folds(captured))
    with ctx.stage("convert", f"{len(chosen)} nodes -> TensorRT layers"):
        fill_network(net, captured, chosen)
    # TensorRT reads weights when it builds, after populate returns: keep them alive until then.
    ctx.keepalive.extend([net.keepalive, captured.program])
    ctx.note(f"captured {captured.module_name} with torch.export: "
             f"{sum(1 for n in captured.graph.nodes if n.op == 'call_function')} ATen nodes, "
             f"{network.num_layers} TensorRT layers, precision policy {policy.precision.value}"
             + f"; {len(net.folds.folded)} batch norm(s) folded into convolutions")
    if quantizer is not None:
        ctx.note(f"int8: {quantizer.inserted} activation Q/DQ pairs from {len(quantizer.ranges)} calibrated "
                 f"ranges ({quantizer.residuals_quantized} on residual Add inputs); "
                 f"{len(quantizer.float_nodes)} quantizable op(s) kept in float")


def convert_graph(network: Any, tensorrt: Any, captured: Captured, precision: str = "fp32",
                  registry: ConverterRegistry | None = None, ranges: dict[str, float] | None = None,
                  unquantized: frozenset[str] = frozenset()) -> NetworkContext:
    """Fill ``network`` from an already captured program (used by tests and benchmarks)."""
    from trtforge_torch2trt.impl.quant import Quantizer

    registry = registry or build_registry()
    chosen = plan(captured.graph, registry, set(captured.constants))
    policy = PrecisionPolicy.of(precision)
    quantizer = Quantizer.for_graph(captured, ranges, unquantized) if ranges is not None else None
    net = NetworkContext(network, tensorrt, policy, quantizer, folds=batch_norm_folds(captured))
    fill_network(net, captured, chosen)
    return net


def fill_network(net: NetworkContext, captured: Captured, chosen: dict[str, ConverterSupport]) -> None:
    from torch.fx.node import map_arg

    values: dict[str, Any] = {}
    user_inputs = iter(zip(captured.input_names, captured.specs))
    for node in captured.graph.nodes:
        net.node = node
        if node.op == "placeholder":
            if node.name in captured.constants:
                values[node.name] = captured.constants[node.name].detach()
            else:
                name, input_spec = next(user_inputs)
                values[node.name] = _add_input(net, node, name, input_spec)
        elif node.op == "get_attr":
            values[node.name] = getattr(captured.program.graph_module, str(node.target))
        elif node.op == "call_function":
            args = map_arg(node.args, lambda n: values[n.name])
            kwargs = map_arg(node.kwargs, lambda n: values[n.name])
            if node.meta.get(CONST):
                values[node.name] = _fold(node, args, kwargs)
                continue
            values[node.name] = run_converter(net, node, chosen[node.name], args, kwargs)
        elif node.op == "output":
            _mark_outputs(net, node, values)
    net.node = None


def _fold(node: Any, args: Any, kwargs: Any) -> Any:
    """Evaluate a node that depends only on weights in PyTorch (e.g. permuting a Linear weight)."""
    import torch

    with torch.no_grad():
        return node.target(*args, **kwargs)


def run_converter(net: NetworkContext, node: Any, support: ConverterSupport, args: Any, kwargs: Any) -> Any:
    try:
        result = support.function(net, node, args, kwargs)
    except TrtforgeError:
        raise
    except Exception as exc:
        raise ConversionError(
            f"converter {support.name} failed on node {node.name} ({node.target}) at "
            f"{module_path(node)}: {type(exc).__name__}: {exc}",
            route=ROUTE,
            hint="this is a bug in that converter" + (
                f" (registered by plugin {support.origin})" if support.origin else ""),
        ) from exc
    _check_result(net, node, result)
    return result


def _check_result(net: NetworkContext, node: Any, result: Any) -> None:
    """Catch shape mistakes right at the node that made them, not at build time."""
    expected = node.meta.get("val")
    if not net.is_itensor(result) or expected is None or not hasattr(expected, "shape"):
        return
    got = net.shape(result)
    want = [int(d) if isinstance(d, int) else -1 for d in expected.shape]
    if len(got) != len(want) or any(g >= 0 and w >= 0 and g != w for g, w in zip(got, want)):
        raise ConversionError(
            f"node {node.name} ({node.target}) at {module_path(node)}: converter produced shape "
            f"{tuple(got)}, PyTorch says {tuple(want)}",
            route=ROUTE, hint="this is a bug in that op's converter")


def _add_input(net: NetworkContext, node: Any, name: str, input_spec: Any) -> Any:
    expected = node.meta.get("val")
    dtype = input_spec.dtype
    if expected is not None and TORCH_TO_TRT.get(str(expected.dtype)) not in (None, dtype):
        raise ConversionError(
            f"input {name!r}: the spec says {dtype} but the model was traced with {expected.dtype}",
            route=ROUTE)
    return net.add_input(name, dtype, input_spec.network_shape())


def _mark_outputs(net: NetworkContext, node: Any, values: dict[str, Any]) -> None:
    from torch.fx.node import map_arg

    outputs = map_arg(node.args[0], lambda n: values[n.name])
    flat = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
    sources = node.args[0] if isinstance(node.args[0], (tuple, list)) else [node.args[0]]
    for index, (value, source) in enumerate(zip(flat, sources)):
        mark_output(net, getattr(source, "name", f"output_{index}"), value, index)


def mark_output(net: NetworkContext, label: str, value: Any, index: int, *, exact: bool = False) -> None:
    """Make ``value`` network output ``label`` (float outputs in FP32 where the policy says);
    ``exact``: the output tensor must be named ``label`` (a program stage's wiring)."""
    if isinstance(value, ShapeScalar):
        value = value.tensor
    if not net.is_itensor(value):
        value = net.constant(value, f"{label}/constant", None)
    if net.is_float(value) and net.policy.keep_io_fp32 and net.dtype_name(value) != "float32":
        # The output keeps the node's name (check maps outputs and tensors by name); the
        # reduced-precision value inside is renamed <node>/<dtype>.
        if value.name == label:
            net.rename(value, f"{label}/{net.dtype_name(value)}")
        value = net.cast(value, "float32", label)
    if exact and value.name != label and not net.is_network_io(value):
        from trtforge_torch2trt.impl.cast import identity

        value = identity(net, value, label)
    # An input or already-marked value is copied (by an identity layer) named after the output.
    value = net.mark_output(value, copy=label if exact else f"{label}/output{index}")
    if exact and value.name != label:
        raise ConversionError(f"program stage output {label!r} came out as {value.name!r}",
                              route=ROUTE, hint="this is a bug in torch2trt's segment wiring")
