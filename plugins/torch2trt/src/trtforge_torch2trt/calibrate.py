"""INT8 calibration in PyTorch: the exported graph is run by an FX interpreter over the user's
calibration batches and every tensor's amax is chosen by the calibration method
(:mod:`trtforge.calibration_methods`: ``max``, ``percentile``, ``mse``; symmetric ranges). Ranges are keyed by
torch.export node names and stored in the core calibration cache (:mod:`trtforge.calibration`),
so a cache written by another route for the same model and names is reused, and ours can be
reused by it. Then accuracy control (:mod:`.accuracy`) decides which quantized ops stay in
float; that choice is stored in the cache too (``unquantized``), so a conversion from the cache
alone builds the same network.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtforge.calibration import Calibration, CalibrationCache, as_calibration
from trtforge.calibration_methods import Method, RangeRecorder
from trtforge.errors import ConversionError, UsageError

from trtforge_torch2trt import ROUTE
from trtforge.accuracy_control import MAX_SAMPLES, AccuracyReport, min_cosine_option
from trtforge_torch2trt.accuracy import (
    FakeQuantRunner,
    QuantizedOp,
    activation_keys,
    batch_size,
    choose_float_ops,
    graph_feeds,
    quantized_ops,
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


def quantized_keys(graph: Any) -> list[str]:
    """Node names whose values get Q/DQ pairs (the ranges INT8 needs)."""
    return activation_keys(quantized_ops(graph))


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
    """Ranges (from the cache if it has them all, else calibrated) and the ops kept in float."""
    calibration = as_calibration(spec.calibration)
    if calibration is None:
        raise UsageError(
            f"{ROUTE} int8 needs calibration data",
            hint="pass calibration=<array or iterable of batches> or Calibration(data=..., cache=...)",
        )
    method = Method.parse(calibration.method)
    min_cosine = min_cosine_option(spec.options)
    ops = quantized_ops(captured.graph)
    keys = activation_keys(ops)
    cache_path = Path(calibration.cache) if calibration.cache else None
    cache = _load_cache(cache_path, source, calibration, method, keys, ctx)
    samples: list[dict[str, Any]] = []
    if cache is None or cache.missing(keys):
        every = [n.name for n in captured.graph.nodes
                 if n.op in ("placeholder", "call_function") and not n.meta.get(CONST)]
        with ctx.stage("calibrate", f"INT8 ranges in PyTorch ({method.label})"):
            ranges, count, samples = record_ranges(
                captured, calibration.batches(captured.input_names, _expected(captured)), every, method,
                keep=MAX_SAMPLES)
        if cache is None:
            cache = CalibrationCache(model_fingerprint=source.fingerprint, method=method.label, producer=ROUTE)
        cache.update(ranges)
        cache.batches = max(cache.batches, count)
        cache.unquantized = None  # new ranges: the float choice is made again below
        ctx.note(f"int8: {method.label} calibration of {len(ranges)} tensors on {count} batch(es)")
    missing = cache.missing(keys)
    if missing:
        raise ConversionError(f"calibration recorded no range for {missing[:5]}", route="torch2trt",
                              hint="check that the calibration batches match the model inputs")
    ranges = {k: cache.ranges[k] for k in keys}
    names = {op.node for op in ops}
    if cache.unquantized is None and min_cosine > 0 and (samples or calibration.data is not None):
        if not samples:
            samples = _first_samples(calibration, captured.input_names, _expected(captured))
        with ctx.stage("accuracy", f"INT8 ops kept in float for cosine >= {min_cosine}"):
            report = choose_float_ops(FakeQuantRunner(captured, ops, ranges), samples, min_cosine)
        ctx.note(f"int8 accuracy control: {report.describe()}")
        cache.unquantized = list(report.float_nodes)
    elif cache.unquantized is None:
        ctx.note("int8: every quantizable op in INT8 (no accuracy control: "
                 + ("disabled by int8_min_cosine=0)" if min_cosine <= 0 else "no calibration data)"))
    unquantized = [n for n in (cache.unquantized or []) if n in names]
    if cache_path is not None:
        cache.save(cache_path)
        ctx.note(f"int8: wrote {len(cache.ranges)} ranges to {cache_path}")
    return Int8Plan(ranges=ranges, unquantized=unquantized, ops=ops)


def _load_cache(path: Path | None, source: Any, calibration: Calibration, method: Method,
                keys: list[str], ctx: Any) -> CalibrationCache | None:
    """The cache to start from, or None to calibrate afresh."""
    if path is None or not path.is_file():
        return None
    cache = CalibrationCache.load(path, model_fingerprint=source.fingerprint)
    if calibration.data is not None and cache.method != method.label:
        ctx.note(f"int8: calibration cache {path} holds {cache.method} ranges, {method.label} "
                 f"was asked for; calibrating again")
        return None
    missing = cache.missing(keys)
    if missing:
        ctx.note(f"int8: calibration cache {path} lacks {len(missing)} of {len(keys)} ranges; calibrating")
    else:
        ctx.note(f"int8: all {len(keys)} ranges read from calibration cache {path} ({cache.method})")
    return cache


def _expected(captured: Captured) -> dict[str, Any]:
    """The model's input specs by name, so each calibration batch's shape is checked."""
    return {spec.name: spec for spec in captured.specs if spec.name}


def _first_samples(calibration: Calibration, input_names: list[str],
                   expected: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    samples, kept = [], 0
    for batch in calibration.batches(input_names, expected):
        samples.append(batch)
        kept += batch_size(batch)
        if kept >= MAX_SAMPLES:
            break
    return samples


__all__ = ["AccuracyReport", "Int8Plan", "int8_plan", "quantized_keys", "record_ranges"]
