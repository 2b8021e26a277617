"""INT8 accuracy control: simulate the Q/DQ network in PyTorch, keep the layers that hurt
most in floating point until the output matches FP32 closely enough.

Why: some networks amplify a small perturbation through their depth (a ResNet50 with
random weights turns 1% input noise into an output at cosine 0.93), and INT8 rounds every
quantized tensor by ~1% however well its range is calibrated. No calibration method fixes
that; leaving the most sensitive layers unquantized does (OpenVINO's accuracy-aware
quantization and ModelOpt's AutoQuantize make the same trade).

How: :class:`FakeQuantRunner` runs the exported graph with exactly the rounding the
network's Quantize/Dequantize layers do (symmetric, round half to even, clamp to
[-128, 127], the same per-tensor and per-channel scales), on samples kept from the
calibration data. Each quantized op is scored alone (output error when only it is
quantized); the most sensitive ones are returned to float, fewest first, until the
simulated output's cosine similarity to FP32 reaches the target.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from trtforge.int8.accuracy_control import AccuracyReport, choose_float, cosine
from trtforge.int8.calibration import INT8_MAX, activation_scale

from trtforge_torch2trt.capture import Captured
from trtforge_torch2trt.converters import CONST

log = logging.getLogger(__name__)



# --- where Q/DQ goes ------------------------------------------------------------------
@dataclass(frozen=True)
class QuantizedOp:
    """One op that runs in INT8: which arguments are activations (quantized per tensor,
    keyed by the producing node's name) and which are weights (per channel along ``axis``)."""

    node: str
    activations: tuple[tuple[int, str], ...]
    weights: tuple[tuple[int, int], ...]
    macs: int = 0  # multiply-accumulates per sample (dynamic dims counted as 1)


def _static(dims: Any) -> list[int]:
    return [int(d) if isinstance(d, int) else 1 for d in dims]


def _macs(node: Any, op: str) -> int:
    """Multiply-accumulates of one sample, from the shapes torch.export recorded."""
    import math

    out = getattr(node.meta.get("val"), "shape", None)
    if out is None:
        return 0
    out_dims = _static(out)
    if op == "aten.convolution.default":
        weight = getattr(node.args[1].meta.get("val"), "shape", None) if hasattr(node.args[1], "meta") else None
        if weight is None:
            return 0
        w = _static(weight)
        transposed = bool(node.args[6]) if len(node.args) > 6 else False
        per_output = (w[0] if transposed else w[1]) * math.prod(w[2:])
        return math.prod(out_dims[1:]) * per_output
    left = node.args[1] if op == "aten.addmm.default" else node.args[0]
    shape = getattr(getattr(left, "meta", {}).get("val"), "shape", None)
    depth = _static(shape)[-1] if shape is not None and len(shape) else 1
    return math.prod(out_dims[1:]) * depth


def _is_activation(value: Any) -> bool:
    return hasattr(value, "meta") and not value.meta.get(CONST)


def _is_matrix_weight(value: Any) -> bool:
    val = getattr(value, "meta", {}).get("val") if hasattr(value, "meta") else None
    return bool(getattr(value, "meta", {}).get(CONST)) and val is not None and val.dim() == 2


def quantized_ops(graph: Any) -> list[QuantizedOp]:
    """The ops the converters put Q/DQ around (impl/conv.py, impl/matmul.py): inputs of
    convolutions, linear layers and matrix products. Residual additions get Q/DQ on one input
    (:func:`residual_adds`); pooling, activations and softmax stay in float."""
    from trtforge_torch2trt.registry import target_name

    ops: list[QuantizedOp] = []
    for node in graph.nodes:
        if node.op != "call_function" or node.meta.get(CONST):
            continue
        op = target_name(node.target)
        activations: list[tuple[int, str]] = []
        weights: list[tuple[int, int]] = []
        if op == "aten.convolution.default":
            if _is_activation(node.args[0]):
                activations.append((0, node.args[0].name))
            transposed = bool(node.args[6]) if len(node.args) > 6 else False
            weights.append((1, 1 if transposed else 0))
        elif op in ("aten.addmm.default", "aten.mm.default", "aten.bmm.default", "aten.matmul.default"):
            first = 1 if op == "aten.addmm.default" else 0
            for axis, position in enumerate((first, first + 1)):
                value = node.args[position]
                if _is_activation(value):
                    activations.append((position, value.name))
                elif _is_matrix_weight(value):
                    # a constant left operand [M, K] per row, a right operand [K, N] per column
                    weights.append((position, axis))
        else:
            continue
        if activations:
            ops.append(QuantizedOp(node.name, tuple(activations), tuple(weights), _macs(node, op)))
    return ops


@dataclass(frozen=True)
class ResidualAdd:
    """An Add whose input at ``position`` (the value of node ``key``) gets Q/DQ so TensorRT
    fuses the Add into ``leader``, the INT8 convolution producing its other input; it follows
    the leader: when accuracy control keeps the leader in float, the Add stays float too."""

    node: str
    position: int
    key: str
    leader: str


_CONV_LIKE = ("aten.convolution.default", "aten.addmm.default", "aten.mm.default", "aten.bmm.default",
              "aten.matmul.default", "aten._native_batch_norm_legit_no_training.default")


def residual_adds(graph: Any, ops: Sequence[QuantizedOp]) -> list[ResidualAdd]:
    """The Adds TensorRT can fuse into an INT8 convolution, and which input to quantize
    (:func:`trtforge.int8.planner.residual_operand`, the rule onnx_trt applies to ONNX Adds)."""
    import operator

    import torch
    from trtforge.int8.planner import residual_operand

    from trtforge_torch2trt.registry import target_name

    quantized = {op.node for op in ops}
    position = {n.name: k for k, n in enumerate(graph.nodes)}

    def producer(value: Any) -> Any:  # through getitem of a multi-output op (batch norm)
        while getattr(value, "op", None) == "call_function" and value.target is operator.getitem:
            value = value.args[0]
        return value

    def leader_of(value: Any) -> str | None:
        """The quantized op whose output this is, possibly through its batch norm."""
        node = producer(value)
        if target_name(node.target) == "aten._native_batch_norm_legit_no_training.default":
            node = producer(node.args[0])
        return node.name if node.name in quantized else None

    adds: list[ResidualAdd] = []
    for node in graph.nodes:
        if node.op != "call_function" or node.target is not torch.ops.aten.add.Tensor or len(node.args) != 2:
            continue
        if node.kwargs.get("alpha", 1) != 1 or not all(_is_activation(a) for a in node.args):
            continue
        producers = [producer(a) for a in node.args]
        if any(p.op != "call_function" for p in producers):
            continue
        which = residual_operand(*((target_name(p.target) in _CONV_LIKE, position[p.name]) for p in producers))
        if which is None:
            continue
        leader = leader_of(node.args[1 - which])
        if leader is not None:
            adds.append(ResidualAdd(node.name, which, node.args[which].name, leader))
    return adds


def activation_keys(ops: Iterable[QuantizedOp], residuals: Iterable[ResidualAdd] = ()) -> list[str]:
    keys: list[str] = []
    for op in ops:
        for _, key in op.activations:
            if key not in keys:
                keys.append(key)
    keys.extend(r.key for r in residuals if r.key not in keys)
    return keys


def graph_feeds(captured: Captured, inputs: dict[str, Any]) -> list[Any]:
    """Arguments of the exported graph module: lifted weights/buffers and the user inputs
    (numpy arrays or tensors by input name, cast to each input's declared dtype)."""
    import numpy as np
    import torch

    dtypes = {s.name: getattr(torch, s.dtype) for s in captured.specs}
    feeds, position = [], 0
    for node in captured.graph.nodes:
        if node.op != "placeholder":
            continue
        if node.name in captured.constants:
            feeds.append(captured.constants[node.name])
            continue
        name = captured.input_names[position]
        position += 1
        value = inputs[name]
        tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
        feeds.append(tensor.to(dtypes[name]))
    return feeds


def batch_size(inputs: dict[str, Any]) -> int:
    first = next(iter(inputs.values()), None)
    shape = getattr(first, "shape", ())
    return int(shape[0]) if len(shape) else 1


# --- the same rounding as the network's Q/DQ layers -------------------------------------
def weight_scales(weight: Any, axis: int) -> Any:
    """Per-channel scales: amax over everything but ``axis``, symmetric, / 127 (float32)."""
    import torch

    w = weight.detach().to(torch.float32)
    dims = [d for d in range(w.dim()) if d != axis]
    amax = w.abs().amax(dim=dims) if dims else w.abs()
    return torch.clamp(amax, min=1e-8) / INT8_MAX


def fake_quantize(x: Any, scale: Any, axis: int | None = None) -> Any:
    """Quantize (round half to even, clamp to int8) and dequantize, in float32."""
    import torch

    s = torch.as_tensor(scale, dtype=torch.float32)
    if axis is not None:
        shape = [1] * x.dim()
        shape[axis] = -1
        s = s.view(shape)
    return torch.clamp(torch.round(x.to(torch.float32) / s), -128, 127) * s


class FakeQuantRunner:
    """Runs the exported graph with Q/DQ simulated on a chosen subset of the quantized ops."""

    def __init__(self, captured: Captured, ops: Sequence[QuantizedOp], ranges: dict[str, float],
                 residuals: Sequence[ResidualAdd] = ()) -> None:
        self.captured = captured
        self.ops = {op.node: op for op in ops}
        self.residuals = {r.node: r for r in residuals}
        self.scales = {k: activation_scale(v) for k, v in ranges.items()}
        self._weights: dict[tuple[str, int], Any] = {}

    def run(self, inputs: dict[str, Any], quantized: set[str]) -> list[Any]:
        """Outputs for one batch of user inputs (by input name) with ``quantized`` ops in INT8."""
        import torch
        from torch.fx import Interpreter

        runner = self

        class Simulator(Interpreter):
            def run_node(self, n: Any) -> Any:
                self.current = n
                return super().run_node(n)

            def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
                if target is torch.ops.aten.view.default:
                    return torch.ops.aten.reshape.default(*args, **kwargs)
                op = runner.ops.get(self.current.name)
                if op is not None and op.node in quantized:
                    args = runner._quantize_args(op, list(args))
                residual = runner.residuals.get(self.current.name)
                if residual is not None and residual.leader in quantized:
                    args = runner._quantize_residual(residual, list(args))
                return super().call_function(target, args, kwargs)

        with torch.no_grad():
            out = Simulator(self.captured.program.graph_module).run(*graph_feeds(self.captured, inputs))
        return [o for o in (out if isinstance(out, (tuple, list)) else [out]) if isinstance(o, torch.Tensor)]

    def _quantize_residual(self, residual: ResidualAdd, args: list[Any]) -> tuple[Any, ...]:
        value = args[residual.position]
        if residual.key in self.scales and value.is_floating_point():
            args[residual.position] = fake_quantize(value, self.scales[residual.key]).to(value.dtype)
        return tuple(args)

    def _quantize_args(self, op: QuantizedOp, args: list[Any]) -> tuple[Any, ...]:
        for position, key in op.activations:
            value = args[position]
            if key in self.scales and value.is_floating_point():
                args[position] = fake_quantize(value, self.scales[key]).to(value.dtype)
        for position, axis in op.weights:
            cached = self._weights.get((op.node, position))
            if cached is None:
                weight = args[position]
                cached = fake_quantize(weight, weight_scales(weight, axis), axis).to(weight.dtype)
                self._weights[(op.node, position)] = cached
            args[position] = cached
        return tuple(args)


# --- choosing what stays in float -------------------------------------------------------
def choose_float_ops(runner: FakeQuantRunner, samples: Sequence[dict[str, Any]],
                     min_cosine: float) -> AccuracyReport:
    """The fewest quantized ops to leave in float so the simulated output reaches ``min_cosine``."""
    names = list(runner.ops)

    def outputs(quantized: set[str]) -> list[Any]:
        return [o for inputs in samples for o in runner.run(inputs, quantized)]

    reference = outputs(set())

    def score(quantized: set[str]) -> float:
        return cosine(reference, outputs(quantized))

    count = sum(batch_size(inputs) for inputs in samples)
    report = choose_float(names, lambda floating: score(set(names) - floating), min_cosine, count)
    if report.float_nodes:
        total = sum(op.macs for op in runner.ops.values())
        kept = sum(runner.ops[name].macs for name in report.float_nodes)
        report.float_macs = kept / total if total else 0.0
    return report
