"""Reduced precision as a graph transform (TensorRT networks are strongly typed).

- fp16 / bf16: ModelOpt AutoCast when it is installed, else onnxconverter-common's FP16
  converter (bf16: the FP16 conversion retyped to bfloat16 from the FP32 weights). Inputs and
  outputs stay FP32 by default; ops known to overflow and nodes with weights beyond the FP16
  range stay FP32, and the conversion says which.
- int8: explicit Q/DQ. Per-tensor ranges come from the core calibration cache
  (``trtforge.int8.calibration``), computed with onnxruntime from the user's batches when missing;
  the Q/DQ graph is made by onnxruntime's ``quantize_static`` (QDQ format, symmetric INT8,
  per-channel weights, no INT32 biases) fed with those ranges. Q/DQ sit where TensorRT fuses
  them: on the inputs of Conv/Gemm/MatMul and on the residual input of Adds that join a
  convolution branch, as NVIDIA's quantization toolkits place them.
"""
from __future__ import annotations

import copy
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from trtforge.models.compat import ort_session
from trtforge.errors import ConversionError, UsageError

if TYPE_CHECKING:
    from trtforge.int8.calibration import CalibrationCache
    from trtforge.int8.planner import Int8Plan
    from trtforge.int8.calibration_methods import Method
    from trtforge.plugin.context import ConversionContext

log = logging.getLogger(__name__)

FP16_MAX = 65504.0
# Ops whose results commonly leave the FP16 range or lose too much in it (sums of squares,
# exponentials, products, running sums). Kept in FP32 in addition to the converter's own list.
OVERFLOW_OPS = ("Exp", "Pow", "ReduceSumSquare", "ReduceL2", "ReduceLogSumExp", "ReduceLogSum",
                "ReduceProd", "Softplus", "CumSum", "Range")
QUANTIZED_OPS = ("Conv", "Gemm", "MatMul")
_CONV_LIKE = ("Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization")


@dataclass
class PrecisionReport:
    converter: str
    kept_fp32: list[str] = field(default_factory=list)

    def summary(self) -> str:
        counts = Counter(item.split(" ")[0] for item in self.kept_fp32)
        kept = ", ".join(f"{op} x{k}" for op, k in counts.most_common()) or "none"
        return f"{self.converter}; kept in FP32: {kept}"


# --- fp16 / bf16 ------------------------------------------------------------------------------
def _large_initializer_nodes(model: Any) -> list[str]:
    import numpy as np
    from onnx import TensorProto, numpy_helper

    large = {i.name for i in model.graph.initializer
             if i.data_type == TensorProto.FLOAT and np.abs(numpy_helper.to_array(i)).max(initial=0) > FP16_MAX}
    return [n.name for n in model.graph.node if n.name and large & set(n.input)]


def to_half(model: Any, low: str, keep_io_types: bool, extra_ops: Sequence[str], ctx: "ConversionContext") -> tuple[Any, PrecisionReport]:
    """Convert a FP32 model to fp16 or bf16 (``low``), keeping risky nodes in FP32."""
    block_ops = list(dict.fromkeys([*OVERFLOW_OPS, *extra_ops]))
    block_nodes = _large_initializer_nodes(model)
    try:
        from modelopt.onnx.autocast import convert_to_mixed_precision
    except ImportError:
        convert_to_mixed_precision = None
    if convert_to_mixed_precision is not None:
        path = ctx.workdir / "autocast_input.onnx"
        import onnx

        onnx.save(model, str(path))
        converted = convert_to_mixed_precision(
            onnx_path=str(path), low_precision_type=low, op_types_to_exclude=block_ops,
            nodes_to_exclude=block_nodes or None, keep_io_types=keep_io_types)
        report = PrecisionReport("ModelOpt AutoCast")
    else:
        from onnxconverter_common import float16

        block_ops = list(dict.fromkeys([*float16.DEFAULT_OP_BLOCK_LIST, *block_ops]))
        working = copy.deepcopy(model)
        detached = _detach_fp32_outputs(working, set(block_ops), set(block_nodes))
        converted = float16.convert_float_to_float16(
            working, keep_io_types=keep_io_types, op_block_list=block_ops,
            node_block_list=block_nodes, max_finite_val=FP16_MAX, min_positive_val=1e-7)
        _reattach_fp32_outputs(converted, detached)
        _retarget_float_casts(model, converted, set(block_ops), set(block_nodes))
        report = PrecisionReport("onnxconverter-common float16")
        if low == "bf16":
            converted = _retype_half_to_bfloat16(converted, model)
            report.converter += " retyped to bfloat16"
    block_ops_set = set(block_ops)
    report.kept_fp32 = [f"{n.op_type} {n.name}" for n in model.graph.node
                        if n.op_type in block_ops_set or n.name in block_nodes]
    return converted, report


def _detach_fp32_outputs(model: Any, block_ops: set[str], block_nodes: set[str]) -> list[tuple[int, Any]]:
    """Take graph outputs made by FP32-kept nodes out of the graph during conversion.

    onnxconverter-common (1.16) fails ("The downstream node of the second cast node should
    be graph output") when a kept node writes a graph output; detached, the output keeps its
    FP32 producer untouched and is put back afterwards.
    """
    producers = {o: n for n in model.graph.node for o in n.output}
    detached = []
    for position, value in enumerate(list(model.graph.output)):
        node = producers.get(value.name)
        if node is not None and (node.op_type in block_ops or node.name in block_nodes):
            detached.append((position, copy.deepcopy(value)))
    for _, value in reversed(detached):
        model.graph.output.remove(next(o for o in model.graph.output if o.name == value.name))
        for info in [v for v in model.graph.value_info if v.name == value.name]:
            model.graph.value_info.remove(info)
    return detached


def _reattach_fp32_outputs(converted: Any, detached: list[tuple[int, Any]]) -> None:
    """Give detached outputs back their FP32 producer; FP16 readers of the same tensor read it
    through the converter's cast under a new name."""
    from onnx import TensorProto

    graph = converted.graph
    for position, value in detached:
        name = value.name
        cast = next((n for n in graph.node if n.op_type == "Cast" and name in n.output), None)
        if cast is not None and any(a.name == "to" and a.i == TensorProto.FLOAT16 for a in cast.attribute):
            fp32_name, fp16_name = cast.input[0], f"{name}_fp16"
            for node in graph.node:
                node.input[:] = [fp16_name if i == name else i for i in node.input]
                node.output[:] = [name if o == fp32_name else o for o in node.output]
            cast.input[0], cast.output[0] = name, fp16_name
            if not any(fp16_name in n.input for n in graph.node):
                graph.node.remove(cast)
        for info in [v for v in graph.value_info if v.name == name]:
            graph.value_info.remove(info)
        graph.output.insert(position, value)


def _retarget_float_casts(original: Any, converted: Any, block_ops: set[str], block_nodes: set[str]) -> None:
    """The converter retypes tensors but leaves ``Cast(to=FLOAT)`` nodes alone (e.g. a uint8
    image cast to float), which then feed FP32 into FP16 math; TensorRT's strongly typed
    network rejects that, so those casts now produce FP16 like the tensors around them."""
    from onnx import TensorProto

    outputs = {n.output[0] for n in original.graph.node
               if n.op_type == "Cast" and n.op_type not in block_ops and n.name not in block_nodes
               and any(a.name == "to" and a.i == TensorProto.FLOAT for a in n.attribute)}
    for node in converted.graph.node:
        if node.op_type == "Cast" and node.output[0] in outputs:
            for attr in node.attribute:
                if attr.name == "to":
                    attr.i = TensorProto.FLOAT16


def _retype_half_to_bfloat16(converted: Any, original: Any) -> Any:
    """Turn the FP16 converter's output into bf16: FP16 types, casts and weights become BF16,
    weights converted from their FP32 originals (not from the rounded FP16 values)."""
    import ml_dtypes
    import numpy as np
    from onnx import TensorProto, numpy_helper

    fp32 = {i.name: i for i in original.graph.initializer}

    def retensor(tensor: Any) -> Any:
        source = fp32.get(tensor.name)
        values = numpy_helper.to_array(source if source is not None else tensor).astype(np.float32)
        new = numpy_helper.from_array(values.astype(ml_dtypes.bfloat16), tensor.name)
        return new

    graph = converted.graph
    for k, init in enumerate(graph.initializer):
        if init.data_type == TensorProto.FLOAT16:
            graph.initializer[k].CopyFrom(retensor(init))
    for node in graph.node:
        for attr in node.attribute:
            if node.op_type == "Cast" and attr.name == "to" and attr.i == TensorProto.FLOAT16:
                attr.i = TensorProto.BFLOAT16
            if attr.HasField("t") and attr.t.data_type == TensorProto.FLOAT16:
                attr.t.CopyFrom(retensor(attr.t))
    for value in [*graph.input, *graph.output, *graph.value_info]:
        if value.type.tensor_type.elem_type == TensorProto.FLOAT16:
            value.type.tensor_type.elem_type = TensorProto.BFLOAT16
    return converted


# --- int8 -------------------------------------------------------------------------------------
def _producers(model: Any) -> dict[str, tuple[int, Any]]:
    return {o: (k, n) for k, n in enumerate(model.graph.node) for o in n.output}


def residual_inputs(model: Any) -> dict[str, str]:
    """Add node name -> the input to quantize so TensorRT can fuse the Add into a convolution
    (the rule both routes share: :func:`trtforge.int8.planner.residual_operand`)."""
    from trtforge.int8.planner import residual_operand

    constants = {i.name for i in model.graph.initializer}
    producers = _producers(model)
    chosen = {}
    for node in model.graph.node:
        if node.op_type != "Add" or len(node.input) != 2:
            continue
        if any(i in constants or i not in producers for i in node.input):
            continue
        which = residual_operand(*((producers[i][1].op_type in _CONV_LIKE, producers[i][0]) for i in node.input))
        if which is not None:
            chosen[node.name] = node.input[which]
    return chosen


def fused_convolutions(model: Any) -> dict[str, str]:
    """Residual Add name -> the node TensorRT fuses it into (the producer of its other input)."""
    producers = _producers(model)
    fused = {}
    for add_name, residual in residual_inputs(model).items():
        add = next(n for n in model.graph.node if n.name == add_name)
        other = next(i for i in add.input if i != residual)
        fused[add_name] = producers[other][1].name
    return fused


def tensors_to_calibrate(model: Any) -> list[str]:
    """Activations that get Q/DQ: inputs of Conv/Gemm/MatMul (not weights/biases) + residuals."""
    constants = {i.name for i in model.graph.initializer}
    constants |= {o for n in model.graph.node if n.op_type == "Constant" for o in n.output}
    needed: list[str] = []
    for node in model.graph.node:
        if node.op_type in QUANTIZED_OPS:
            data_inputs = node.input[:1] if node.op_type == "Conv" else node.input[:2]
            needed.extend(t for t in data_inputs if t and t not in constants)
    needed.extend(residual_inputs(model).values())
    return list(dict.fromkeys(needed))


def measure_ranges(model: Any, tensors: Sequence[str], batches: Any, method: "Method | None" = None,
                   keep: int = 0) -> tuple[dict[str, float], int, list[dict[str, Any]]]:
    """amax of each tensor over the calibration batches (chosen by ``method``, default the
    largest |value|), run by onnxruntime; the batch count; the first batches (up to ``keep``
    samples, as fed) for accuracy control."""
    import onnxruntime as ort
    from onnx import TensorProto, helper
    from trtforge.int8.calibration_methods import Method, RangeRecorder

    probe = copy.deepcopy(model)
    existing = {o.name for o in probe.graph.output}
    for name in tensors:
        if name not in existing:
            probe.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort_session(probe, options)
    feeds_meta = {i.name: i for i in session.get_inputs()}
    recorder = RangeRecorder(method or Method("max"))
    count, kept, samples = 0, 0, []
    for batch in batches:
        feeds = typed_feeds(batch, feeds_meta)
        for chunk in _fit_batch(feeds, feeds_meta):
            outputs = session.run(list(tensors), chunk)
            for name, value in zip(tensors, outputs):
                recorder.add(name, value)
        if kept < keep:
            samples.append(_first_rows(feeds, keep - kept))
            kept += _batch_size(samples[-1])
        count += 1
    ranges = recorder.ranges()
    return {name: ranges.get(name, 0.0) for name in tensors}, count, samples


def typed_feeds(batch: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """A batch as contiguous arrays of the dtypes the session's inputs take."""
    import numpy as np

    feeds = {}
    for name, value in batch.items():
        dtype = {"tensor(float)": np.float32, "tensor(uint8)": np.uint8, "tensor(int8)": np.int8,
                 "tensor(int32)": np.int32, "tensor(int64)": np.int64,
                 "tensor(float16)": np.float16}.get(meta[name].type, None)
        feeds[name] = np.ascontiguousarray(value, dtype=dtype)
    return feeds


def _first_rows(feeds: dict[str, Any], rows: int) -> dict[str, Any]:
    """At most ``rows`` samples of a batch (accuracy control runs on a few samples)."""
    return {k: v[:rows] if getattr(v, "ndim", 0) else v for k, v in feeds.items()}


def _batch_size(feeds: dict[str, Any]) -> int:
    value = next(iter(feeds.values()), None)
    return int(value.shape[0]) if value is not None and getattr(value, "ndim", 0) else 1


def _fit_batch(feeds: dict[str, Any], meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Split calibration batches to the model's fixed batch size (e.g. 1 for a TF graph whose
    batch the route fixed), so any batch size of calibration data works."""
    sizes = set()
    for name, value in feeds.items():
        fixed = meta[name].shape[0] if meta[name].shape else None
        if isinstance(fixed, int) and value.ndim and value.shape[0] != fixed:
            if value.shape[0] % fixed:
                raise UsageError(f"calibration batch for {name} has {value.shape[0]} samples, "
                                 f"not a multiple of the model's batch size {fixed}")
            sizes.add(fixed)
    if not sizes:
        return [feeds]
    step = sizes.pop()
    total = next(iter(feeds.values())).shape[0]
    return [{k: v[i:i + step] for k, v in feeds.items()} for i in range(0, total, step)]


def _graph_inputs(model: Any) -> list[str]:
    constants = {t.name for t in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in constants]


def _expected_inputs(model: Any) -> dict[str, Any]:
    """Input specs (rank and fixed dimensions) so each calibration batch's shape is checked."""
    from trtforge.conversion.specs import InputSpec, ShapeProfile

    names = set(_graph_inputs(model))
    expected = {}
    for item in model.graph.input:
        if item.name not in names or not item.type.tensor_type.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else -1
                for d in item.type.tensor_type.shape.dim]
        lo = tuple(0 if d < 0 else d for d in dims)
        hi = tuple((1 << 31) if d < 0 else d for d in dims)
        expected[item.name] = InputSpec(item.name, profiles=(ShapeProfile(lo, lo, hi),))
    return expected


def int8_plan(model: Any, calibration: Any, fingerprint: str, min_cosine: float,
              ctx: "ConversionContext") -> "Int8Plan":
    """The calibration cache with a range for every tensor the Q/DQ graph needs (by the
    method ``Calibration(method=...)`` names: ``max``, ``percentile[:P]``, ``mse``) and the
    nodes kept in float: core's INT8 planner (:mod:`trtforge.int8.planner`) with this route's two
    callbacks, ranges measured by onnxruntime and Q/DQ models scored by onnxruntime."""
    from trtforge.int8.planner import plan_int8

    from trtforge_onnx_trt.accuracy import MAX_SAMPLES, choose_float_nodes, quantized_nodes

    def measure(batches: Any, names: Sequence[str], method: Any,
                keep: int) -> tuple[dict[str, float], int, list[dict[str, Any]]]:
        return measure_ranges(model, names, batches, method, keep=keep)

    def choose(cache: "CalibrationCache", samples: Sequence[dict[str, Any]], target: float) -> Any:
        everything, _ = quantize_int8(model, cache, ctx)
        nodes = quantized_nodes(everything, QUANTIZED_OPS)
        return choose_float_nodes(model, everything, nodes, samples, target, _fit_batch,
                                  followers=fused_convolutions(model))

    return plan_int8(
        route="onnx_trt", calibration=calibration, fingerprint=fingerprint, depthwise=lambda: depthwise_map(model),
        keys=tensors_to_calibrate(model), input_names=_graph_inputs(model),
        expected=_expected_inputs(model), measure=measure, choose=choose, min_cosine=min_cosine,
        ctx=ctx, candidates=[n.name for n in model.graph.node],
        first_samples=lambda calib: _first_samples(model, calib, MAX_SAMPLES),
        unit="nodes", calibrate_stage=False)


# Ops that hand a convolution's output on unchanged in kind (the Q/DQ goes after them).
PASS_THROUGH_OPS = frozenset({"Clip", "Relu", "LeakyRelu", "BatchNormalization", "Identity"})


def depthwise_map(model: Any) -> dict[str, list[str]]:
    """Grouped (depthwise) Conv nodes -> the quantizable nodes reading them (core's
    :func:`trtforge.int8.planner.depthwise_readers` over this ONNX graph)."""
    from trtforge.int8.planner import depthwise_readers

    nodes = list(model.graph.node)
    by_name = {n.name: n for n in nodes}
    by_tensor: dict[str, list[str]] = {}
    for node in nodes:
        for tensor in node.input:
            by_tensor.setdefault(tensor, []).append(node.name)
    readers = {n.name: [r for out in n.output for r in by_tensor.get(out, ())] for n in nodes}

    def is_depthwise(name: str) -> bool:
        node = by_name[name]
        return node.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in node.attribute)

    return depthwise_readers([n.name for n in nodes], readers, is_depthwise,
                             {n.name for n in nodes if n.op_type in QUANTIZED_OPS},
                             lambda name: by_name[name].op_type in PASS_THROUGH_OPS)


def _first_samples(model: Any, calibration: Any, count: int) -> list[dict[str, Any]]:
    session = ort_session(model)
    meta = {i.name: i for i in session.get_inputs()}
    samples, kept = [], 0
    for batch in calibration.batches(_graph_inputs(model), _expected_inputs(model)):
        samples.append(_first_rows(typed_feeds(batch, meta), count - kept))
        kept += _batch_size(samples[-1])
        if kept >= count:
            break
    return samples


def quantize_int8(model: Any, cache: "CalibrationCache", ctx: "ConversionContext",
                  unquantized: Sequence[str] = ()) -> tuple[Any, PrecisionReport]:
    """Q/DQ graph from the cached ranges (onnxruntime's quantize_static, QDQ, symmetric);
    the ``unquantized`` nodes stay in float (``nodes_to_exclude``)."""
    import numpy as np
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.calibrate import TensorData, TensorsData, save_tensors_data

    needed = tensors_to_calibrate(model)
    ranges = TensorsData(CalibrationMethod.MinMax, {
        name: TensorData(lowest=np.float32(-cache.ranges[name]), highest=np.float32(cache.ranges[name]))
        for name in needed})
    ranges_path = ctx.workdir / "ort_ranges.json"
    save_tensors_data(ranges, ranges_path)
    source_path = ctx.workdir / "int8_input.onnx"
    output_path = ctx.workdir / "int8_qdq.onnx"
    onnx.save(model, str(source_path))
    quantize_static(
        str(source_path), str(output_path), calibration_data_reader=None,
        quant_format=QuantFormat.QDQ, op_types_to_quantize=list(QUANTIZED_OPS), per_channel=True,
        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax, calibration_cache_path=str(ranges_path),
        nodes_to_exclude=list(unquantized) or None,
        extra_options={"ActivationSymmetric": True, "WeightSymmetric": True,
                       # TensorRT 8.6 rejects INT32 biases; keep them FP32.
                       "QuantizeBias": False,
                       # Outputs stay FP32 so TensorRT can fuse bias/activation/residual Add
                       # into the convolution; the next layer's input Q/DQ quantizes them.
                       "OpTypesToExcludeOutputQuantization": list(QUANTIZED_OPS)},
    )
    quantized = onnx.load(str(output_path))
    # A residual Add keeps its Q/DQ only while the convolution it fuses into runs in INT8.
    fused = fused_convolutions(model)
    excluded = set(unquantized)
    residuals = _quantize_residuals(
        quantized, {a: t for a, t in residual_inputs(model).items() if fused.get(a) not in excluded}, cache)
    report = PrecisionReport(
        f"onnxruntime quantize_static (QDQ, symmetric int8, per-channel weights), "
        f"{residuals} residual Add input(s) quantized")
    quantized_ops = set(QUANTIZED_OPS)
    dq_fed = {n.output[0] for n in quantized.graph.node if n.op_type == "DequantizeLinear"}
    report.kept_fp32 = [f"{n.op_type} {n.name}" for n in quantized.graph.node
                        if n.op_type in quantized_ops and not (set(n.input[:1]) & dq_fed)]
    if not excluded and not any(n.op_type == "QuantizeLinear" for n in quantized.graph.node):
        raise ConversionError("int8: the model has no Conv, Gemm or MatMul to quantize",
                              route="onnx_trt", hint="use fp16 for this model")
    return quantized, report


def _quantize_residuals(model: Any, residuals: dict[str, str], cache: "CalibrationCache") -> int:
    """Route each chosen residual Add input through Q/DQ (reusing the pair the quantizer made
    for the same tensor when there is one)."""
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    by_name = {n.name: n for n in graph.node}
    existing = {}
    quantize_of = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "QuantizeLinear"}
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in quantize_of:
            existing.setdefault(quantize_of[node.input[0]], node.output[0])
    count = 0
    for add_name, tensor in residuals.items():
        add = by_name.get(add_name)
        if add is None:
            continue
        dequantized = existing.get(tensor)
        if tensor not in add.input:
            # The quantizer already routed every consumer of the tensor through its Q/DQ.
            count += int(dequantized is not None and dequantized in add.input)
            continue
        if dequantized is None:
            scale = numpy_helper.from_array(np.array(cache.scale(tensor), np.float32), f"{tensor}_residual_scale")
            zero = numpy_helper.from_array(np.array(0, np.int8), f"{tensor}_residual_zero_point")
            graph.initializer.extend([scale, zero])
            q_out, dq_out = f"{tensor}_residual_QuantizeLinear_Output", f"{tensor}_residual_DequantizeLinear_Output"
            position = list(graph.node).index(add)
            graph.node.insert(position, helper.make_node(
                "DequantizeLinear", [q_out, scale.name, zero.name], [dq_out], name=f"{tensor}_residual_DequantizeLinear"))
            graph.node.insert(position, helper.make_node(
                "QuantizeLinear", [tensor, scale.name, zero.name], [q_out], name=f"{tensor}_residual_QuantizeLinear"))
            existing[tensor] = dequantized = dq_out
        add.input[list(add.input).index(tensor)] = dequantized
        count += 1
    return count
