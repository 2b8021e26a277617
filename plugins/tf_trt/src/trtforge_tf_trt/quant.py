"""INT8 for tf_trt: explicit Quantize/Dequantize from ranges TensorFlow measures.

Quantized ops are the ones whose weights are constants: Conv2D, DepthwiseConv2dNative, MatMul
and BatchMatMul. Their activation input gets a per-tensor Q/DQ pair (symmetric, scale =
amax / 127) and their weights per-output-channel Q/DQ; everything else stays FP32 (TensorRT
fuses what follows a quantized convolution). The ranges are the amax of those activation
tensors, measured by running the frozen graph in TensorFlow over the calibration batches, and
live in the calibration cache every route shares (keys: TensorFlow tensor names). Core's INT8
planner (:mod:`trtforge.int8.planner`) does the cache, method and accuracy-control bookkeeping;
accuracy control scores this route's own simulation: the same graph with TensorFlow
``FakeQuantWithMinMaxArgs`` (narrow range, so exactly the symmetric int8 grid) on the
activations and fake-quantized weight constants.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
from trtforge.int8.calibration import INT8_MAX, activation_scale
from trtforge.models.tf_graphs import canonical_tensor, pruned_function, run_on_cpu

from trtforge_tf_trt import ROUTE
from trtforge_tf_trt.graph import TfGraph
from trtforge_tf_trt.network import NetworkContext

log = logging.getLogger(__name__)

QUANTIZED_OPS = frozenset({"Conv2D", "DepthwiseConv2dNative", "MatMul", "BatchMatMul", "BatchMatMulV2",
                           "BatchMatMulV3"})


def quantized_nodes(graph: TfGraph) -> list[Any]:
    """Converted nodes with a constant weight (input 1) and a run-time float activation."""
    found = []
    for node in graph.converted_nodes():
        if node.op not in QUANTIZED_OPS or len(node.inputs) < 2:
            continue
        if node.input_const(1) is None or graph.is_constant(node.inputs[0]):
            continue
        if node.input_dtype(0) not in ("float32", "float16", "bfloat16"):
            continue
        found.append(node)
    return found


def activation_keys(nodes: Sequence[Any]) -> list[str]:
    return list(dict.fromkeys(canonical_tensor(n.inputs[0]) for n in nodes))


def weight_axes(node: Any) -> tuple[int, ...]:
    """The TensorFlow weight axes that make one output channel."""
    if node.op == "Conv2D":
        return (3,)
    if node.op == "DepthwiseConv2dNative":
        return (2, 3)
    weight = node.input_const(1)
    transposed = bool(node.attr("transpose_b", False) or node.attr("adj_y", False))
    return (weight.ndim - 2,) if transposed else (weight.ndim - 1,)


def channel_scales(weight: np.ndarray, axes: Sequence[int], *, keepdims: bool = False) -> np.ndarray:
    """Symmetric int8 scales (amax / 127) of ``weight`` per index along ``axes``: the one rule
    both the TensorRT Q/DQ and the TensorFlow simulation use, so accuracy control scores what
    the engine computes."""
    w = np.asarray(weight, np.float32)
    other = tuple(a for a in range(w.ndim) if a not in axes)
    amax = np.abs(w).max(axis=other, keepdims=keepdims) if other else np.abs(w)
    return (np.maximum(amax, 1e-8) / INT8_MAX).astype(np.float32)


def fake_quantize_weight(weight: np.ndarray, axes: Sequence[int]) -> np.ndarray:
    """Per-output-channel symmetric int8 (round half to even), back in float32."""
    w = np.asarray(weight, np.float32)
    scale = channel_scales(w, axes, keepdims=True)
    return (np.clip(np.round(w / scale), -INT8_MAX, INT8_MAX) * scale).astype(np.float32)


@dataclass
class Quantizer:
    """Activation ranges by TensorFlow tensor; nodes accuracy control keeps in float."""

    ranges: dict[str, float]
    float_nodes: frozenset[str] = frozenset()
    inserted: int = 0
    _done: dict[str, Any] = field(default_factory=dict)

    def _quantizing(self, net: NetworkContext) -> bool:
        return net.node is None or net.node.name not in self.float_nodes

    def activation(self, net: NetworkContext, x: Any, key: str | None) -> Any:
        """Q/DQ ``x`` (the value of TensorFlow tensor ``key``) where a range exists."""
        key = canonical_tensor(key) if key else None
        if not self._quantizing(net) or key is None or key not in self.ranges or not net.is_float(x):
            return x
        if x.name not in self._done:
            self._done[x.name] = net.qdq(x, np.float32(activation_scale(self.ranges[key])), None, x.name)
            self.inserted += 1
        return self._done[x.name]

    def weight(self, net: NetworkContext, weight: Any, axis: int, name: str) -> Any:
        """A constant weight (TensorRT layout) as a tensor, Q/DQ'd per channel along ``axis``."""
        w = np.asarray(weight, np.float32)
        tensor = net.constant(w, f"{name}/weight", "float32")
        if not self._quantizing(net):
            return tensor
        scales = channel_scales(w, (axis,))
        return net.qdq(tensor, scales, axis, f"{name}/weight")


# --- TensorFlow runs: calibration and the fake-quant simulation ---------------------------------
def _run(function: Any, frozen: Any, batch: dict[str, Any]) -> list[np.ndarray]:
    args = [np.asarray(batch[t.name]).astype(t.dtype, copy=False) for t in frozen.input_specs]
    return [np.asarray(v) for v in run_on_cpu(function, args)]


def measure_ranges(frozen: Any, graph: TfGraph, batches: Iterable[dict[str, Any]], keys: Sequence[str],
                   method: Any, keep: int) -> tuple[dict[str, float], int, list[dict[str, Any]]]:
    """The amax of each tensor in ``keys`` over the batches (by ``method``), the batch count,
    and the first batches (up to ``keep`` samples)."""
    from trtforge.int8.calibration_methods import RangeRecorder

    wanted = [k for k in keys if graph.dtype(k) in ("float32", "float16", "bfloat16")]
    function = pruned_function(graph.graph_def, frozen.inputs, wanted)
    recorder = RangeRecorder(method)
    count, kept, samples = 0, 0, []
    for batch in batches:
        for key, value in zip(wanted, _run(function, frozen, batch)):
            recorder.add(key, value)
        if kept < keep:
            samples.append(batch)
            kept += int(np.asarray(next(iter(batch.values()))).shape[0]) if batch else 1
        count += 1
    return recorder.ranges(), count, samples


def simulated_graph(graph: TfGraph, nodes: Sequence[Any], ranges: dict[str, float],
                    float_nodes: set[str]) -> Any:
    """The graph with int8 fake quantization where the network will have Q/DQ."""
    import tensorflow as tf
    from tensorflow.python.framework import tensor_util

    rewritten = tf.compat.v1.GraphDef()
    rewritten.CopyFrom(graph.graph_def)
    by_name = {n.name: n for n in rewritten.node}
    for node in nodes:
        if node.name in float_nodes:
            continue
        proto = by_name[node.name]
        key = canonical_tensor(node.inputs[0])
        amax = max(float(ranges.get(key, 0.0)), 1e-8)
        act = rewritten.node.add()
        act.name, act.op = f"{node.name}/trtforge_fake_quant", "FakeQuantWithMinMaxArgs"
        act.input.append(proto.input[0])
        act.attr["min"].f, act.attr["max"].f = -amax, amax
        act.attr["num_bits"].i, act.attr["narrow_range"].b = 8, True
        weight = rewritten.node.add()
        weight.name, weight.op = f"{node.name}/trtforge_fake_quant_weight", "Const"
        value = fake_quantize_weight(node.input_const(1), weight_axes(node))
        weight.attr["dtype"].type = tf.float32.as_datatype_enum
        weight.attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto(value))
        data = [i for i in proto.input if not i.startswith("^")]
        control = [i for i in proto.input if i.startswith("^")]
        del proto.input[:]
        proto.input.extend([act.name, weight.name] + data[2:] + control)
    return rewritten


# Ops that hand a convolution's output on unchanged in kind (the Q/DQ goes after them); an
# elementwise op passes it on when its other operand is a constant (a folded batch norm).
PASS_THROUGH_OPS = frozenset({"BiasAdd", "Relu", "Relu6", "LeakyRelu", "Identity", "FusedBatchNorm",
                              "FusedBatchNormV2", "FusedBatchNormV3"})
CONSTANT_OPERAND_OPS = frozenset({"Add", "AddV2", "Mul", "Sub"})


def depthwise_map(graph: TfGraph, nodes: Sequence[Any]) -> dict[str, list[str]]:
    """DepthwiseConv2dNative nodes -> the quantized ops reading them (core's
    :func:`trtforge.int8.planner.depthwise_readers` over the converted graph)."""
    from trtforge.int8.planner import depthwise_readers

    converted = graph.converted_nodes()
    by_name = {n.name: n for n in converted}
    readers: dict[str, list[str]] = {}
    for node in converted:
        for tensor in node.inputs:
            readers.setdefault(tensor.lstrip("^").split(":")[0], []).append(node.name)

    def passes(name: str) -> bool:
        node = by_name.get(name)
        if node is None:
            return False
        if node.op in CONSTANT_OPERAND_OPS:
            return any(graph.is_constant(t) for t in node.inputs)
        return node.op in PASS_THROUGH_OPS

    return depthwise_readers([n.name for n in converted], readers,
                             lambda name: by_name[name].op == "DepthwiseConv2dNative",
                             {n.name for n in nodes}, passes)


def int8_quantizer(source: Any, frozen: Any, graph: TfGraph, spec: Any, ctx: Any,
                   shapes: dict[str, Any]) -> Quantizer:
    """Ranges (cache or calibration) and the ops kept in float, through core's planner."""
    from trtforge.int8.accuracy_control import AccuracyReport, choose_float, cosine, min_cosine_option
    from trtforge.int8.planner import plan_int8
    from trtforge.conversion.specs import InputSpec

    nodes = quantized_nodes(graph)
    keys = activation_keys(nodes)
    expected = {t.name: InputSpec(t.name, dtype=t.dtype, shape=tuple(max(int(d), 1) for d in shapes[t.name]))
                for t in frozen.input_specs}

    def measure(batches: Any, names: Any, method: Any, keep: int) -> tuple[dict[str, float], int, list[Any]]:
        return measure_ranges(frozen, graph, batches, names, method, keep)

    def choose(cache: Any, samples: Sequence[dict[str, Any]], min_cosine: float) -> AccuracyReport:
        reference_fn = pruned_function(graph.graph_def, frozen.inputs, frozen.outputs)
        references = [_run(reference_fn, frozen, batch) for batch in samples]

        def score(kept_float: set[str]) -> float:
            simulated = simulated_graph(graph, nodes, cache.ranges, kept_float)
            function = pruned_function(simulated, frozen.inputs, frozen.outputs)
            scores = [cosine(ref, _run(function, frozen, batch)) for ref, batch in zip(references, samples)]
            return min(scores) if scores else 1.0

        count = sum(int(np.asarray(next(iter(b.values()))).shape[0]) for b in samples if b)
        return choose_float([n.name for n in nodes], score, min_cosine, count, unit="ops")

    planned = plan_int8(route=ROUTE, calibration=spec.calibration, fingerprint=source.fingerprint,
                        keys=keys, input_names=[t.name for t in frozen.input_specs], expected=expected,
                        measure=measure, choose=choose, min_cosine=min_cosine_option(dict(spec.options)),
                        ctx=ctx, candidates=[n.name for n in nodes], unit="ops",
                        depthwise=lambda: depthwise_map(graph, nodes))
    quantizer = Quantizer(planned.ranges(keys), frozenset(planned.unquantized))
    ctx.note(f"int8: {len(nodes)} quantizable op(s) (Conv2D/Depthwise/MatMul with constant weights), "
             f"{len(quantizer.float_nodes)} kept in float")
    return quantizer
