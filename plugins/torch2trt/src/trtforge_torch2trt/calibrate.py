"""INT8 calibration in PyTorch: the exported graph is run by an FX interpreter over the user's
calibration batches and every tensor's amax is chosen by the calibration method
(:mod:`trtforge.int8.calibration_methods`: ``max``, ``percentile``, ``mse``; symmetric ranges).
Ranges are keyed by torch.export node names and stored in the core calibration cache
(:mod:`trtforge.int8.calibration`), so a cache written by another route for the same model and names is reused, and ours can be
reused by it. Then accuracy control (:mod:`.accuracy`) decides which quantized ops stay in
float; that choice is stored in the cache too (``unquantized``), so a conversion from the cache
alone builds the same network.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from trtforge.int8.calibration import CalibrationCache
from trtforge.int8.calibration_methods import Method, RangeRecorder

from trtforge_torch2trt import ROUTE
from trtforge.int8.accuracy_control import AccuracyReport, min_cosine_option
from trtforge_torch2trt.accuracy import (
    FakeQuantRunner,
    QuantizedOp,
    ResidualAdd,
    activation_keys,
    batch_size,
    choose_float_ops,
    graph_feeds,
    quantized_ops,
    residual_adds,
)
from trtforge_torch2trt.capture import Captured
from trtforge_torch2trt.converters import CONST

log = logging.getLogger(__name__)



@dataclass
class Int8Plan:
    """What the converters need for INT8: ranges by node name and the ops left in float."""

    ranges: dict[str, float]
    unquantized: list[str] = field(default_factory=list)
    ops: list[QuantizedOp] = field(default_factory=list)
    residuals: list[ResidualAdd] = field(default_factory=list)


def quantized_keys(graph: Any) -> list[str]:
    """Node names whose values get Q/DQ pairs (the ranges INT8 needs)."""
    ops = quantized_ops(graph)
    return activation_keys(ops, residual_adds(graph, ops))


def record_ranges(captured: Captured, batches: Iterable[dict[str, Any]], keys: Iterable[str],
                  method: Method | None = None, keep: int = 0
                  ) -> tuple[dict[str, float], int, list[dict[str, Any]]]:
    """Run the exported graph on every batch; the amax of each tensor named in ``keys`` by
    ``method``, the batch count, and the first batches (up to ``keep`` samples) for later use."""
    import torch
    from torch.fx import Interpreter

    wanted = set(keys)
    recorder = RangeRecorder(method or Method("max"))

    class Recorder(Interpreter):
        def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
            # Eager kernels may hand back non-contiguous layouts the traced graph's views
            # did not expect; a reshape computes the same values.
            if target is torch.ops.aten.view.default:
                return torch.ops.aten.reshape.default(*args, **kwargs)
            return super().call_function(target, args, kwargs)

        def run_node(self, n: Any) -> Any:
            result = super().run_node(n)
            if n.name in wanted and isinstance(result, torch.Tensor) and result.is_floating_point():
                recorder.add(n.name, result)
            return result

    interpreter = Recorder(captured.program.graph_module)
    count, kept, samples = 0, 0, []
    with torch.no_grad():
        for batch in batches:
            interpreter.run(*graph_feeds(captured, batch))
            if kept < keep:
                samples.append(batch)
                kept += batch_size(batch)
            count += 1
    return recorder.ranges(), count, samples


def int8_plan(captured: Captured, source: Any, spec: Any, ctx: Any) -> Int8Plan:
    """Ranges (from the cache if it has them all, else calibrated) and the ops kept in float:
    core's INT8 planner (:mod:`trtforge.int8.planner`) with this route's two callbacks."""
    from trtforge.int8.planner import plan_int8

    ops = quantized_ops(captured.graph)
    residuals = residual_adds(captured.graph, ops)
    keys = activation_keys(ops, residuals)
    # Calibrate every value, not only the Q/DQ inputs: the shared cache then serves other
    # routes (and other precisions' choices) for the same model.
    every = [n.name for n in captured.graph.nodes
             if n.op in ("placeholder", "call_function") and not n.meta.get(CONST)]

    def measure(batches: Iterable[dict[str, Any]], names: Any, method: Method,
                keep: int) -> tuple[dict[str, float], int, list[dict[str, Any]]]:
        return record_ranges(captured, batches, names, method, keep=keep)

    def choose(cache: CalibrationCache, samples: Any, min_cosine: float) -> AccuracyReport:
        runner = FakeQuantRunner(captured, ops, {k: cache.ranges[k] for k in keys}, residuals)
        return choose_float_ops(runner, samples, min_cosine)

    planned = plan_int8(
        route=ROUTE, calibration=spec.calibration, fingerprint=source.fingerprint, keys=keys,
        input_names=captured.input_names, expected=_expected(captured), measure=measure,
        choose=choose, min_cosine=min_cosine_option(spec.options), ctx=ctx,
        measure_names=every, candidates=[op.node for op in ops], unit="ops",
        depthwise=lambda: depthwise_map(captured.graph, ops))
    return Int8Plan(ranges=planned.ranges(keys), unquantized=planned.unquantized, ops=ops,
                    residuals=residuals)


# Ops that hand a convolution's output on unchanged in kind (the Q/DQ goes after them).
PASS_THROUGH_OPS = frozenset({
    "aten.hardtanh.default", "aten.relu.default", "aten.clamp.default", "aten.leaky_relu.default",
    "aten._native_batch_norm_legit_no_training.default", "aten.batch_norm.default", "operator.getitem",
})


def depthwise_map(graph: Any, ops: list[QuantizedOp]) -> dict[str, list[str]]:
    """Grouped (depthwise) convolutions -> the quantized ops reading them (core's
    :func:`trtforge.int8.planner.depthwise_readers` over the exported graph)."""
    from trtforge.int8.planner import depthwise_readers

    from trtforge_torch2trt.registry import target_name

    nodes = [n for n in graph.nodes if n.op == "call_function"]
    by_name = {n.name: n for n in nodes}
    readers = {n.name: [u.name for u in n.users] for n in nodes}

    def is_depthwise(name: str) -> bool:
        node = by_name[name]
        return (target_name(node.target) == "aten.convolution.default" and len(node.args) > 8
                and isinstance(node.args[8], int) and node.args[8] > 1)

    return depthwise_readers([n.name for n in nodes], readers, is_depthwise, {op.node for op in ops},
                             lambda name: name in by_name and target_name(by_name[name].target) in PASS_THROUGH_OPS)


def _expected(captured: Captured) -> dict[str, Any]:
    """The model's input specs by name, so each calibration batch's shape is checked."""
    return {spec.name: spec for spec in captured.specs if spec.name}


__all__ = ["AccuracyReport", "Int8Plan", "int8_plan", "quantized_keys", "record_ranges"]
