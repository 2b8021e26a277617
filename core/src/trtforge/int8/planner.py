"""One INT8 planner for every route: which ranges, from where, and which ops stay in float.

Every route needs the same steps around its own arithmetic -- read the shared calibration
cache (refusing another model's), recalibrate when another method was asked for, calibrate
only what is missing, merge and save, run accuracy control once and record its choice in the
cache, and say what happened in the engine notes. Written once here, a route supplies two
callbacks:

- ``measure(batches, names, method, keep) -> (ranges, batch_count, samples)``: run the model
  over the calibration batches and return the amax of each named tensor (by ``method``), how
  many batches it saw, and the first batches (up to ``keep`` samples) for accuracy control;
- ``choose(cache, samples, min_cosine) -> AccuracyReport``: score the route's own Q/DQ
  simulation with sets of ops left in float (:func:`trtforge.int8.accuracy_control.choose_float`)
  and return the fewest that reach ``min_cosine``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Mapping, Sequence

from trtforge.int8.accuracy_control import MAX_SAMPLES, AccuracyReport
from trtforge.int8.calibration import Calibration, CalibrationCache, as_calibration
from trtforge.int8.calibration_methods import Method
from trtforge.errors import ConversionError, UsageError

log = logging.getLogger(__name__)

Measure = Callable[[Iterator[dict[str, Any]], Sequence[str], Method, int],
                   "tuple[dict[str, float], int, list[dict[str, Any]]]"]
Choose = Callable[[CalibrationCache, Sequence[dict[str, Any]], float], AccuracyReport]


@dataclass
class Int8Plan:
    """The cache with every range the Q/DQ network needs, and the ops left in float."""

    cache: CalibrationCache
    path: Path | None
    calibration: Calibration
    method: Method
    unquantized: list[str] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def ranges(self, keys: Sequence[str]) -> dict[str, float]:
        return {k: self.cache.ranges[k] for k in keys}


def residual_operand(a: tuple[bool, int], b: tuple[bool, int]) -> int | None:
    """Which input of a two-input Add to quantize (0 or 1) so TensorRT fuses the Add into the
    convolution producing the other one, or None when neither comes from a convolution.

    Each input is ``(produced by a convolution-like op, the producer's position in graph
    order)``. The convolution's output stays unquantized (TensorRT fuses the Add, and the
    activation after it, into that convolution's INT8 kernel) and the other input -- the
    residual -- gets Q/DQ; with convolutions on both sides (a projection shortcut) the earlier
    one is the residual. Both routes place residual Q/DQ by this rule, as NVIDIA's quantization
    toolkits do; without it an INT8 ResNet50 ran slower than FP16 on TensorRT 8.6."""
    (conv_a, at_a), (conv_b, at_b) = a, b
    if conv_a and conv_b:
        return 0 if at_a < at_b else 1
    if conv_a:
        return 1
    if conv_b:
        return 0
    return None


def depthwise_readers(
    order: Sequence[str],
    readers: Mapping[str, Sequence[str]],
    is_depthwise: Callable[[str], bool],
    quantized: Collection[str],
    passes_through: Callable[[str], bool],
) -> dict[str, list[str]]:
    """Each depthwise convolution (by name, in ``order``) -> the quantized ops that read its
    output, directly or through ops that only pass it on (bias, batch norm, activations).

    ``readers`` maps an op to the ops that read its outputs; ``quantized`` names the ops that
    get INT8 inputs. Routes describe their graphs with these four facts and the planner keeps
    the readers of a float depthwise convolution in float where TensorRT needs it
    (:attr:`trtforge.tensorrt.trt.TrtFacts.quantizes_float_depthwise_output`)."""
    found: dict[str, list[str]] = {}
    for name in order:
        if not is_depthwise(name):
            continue
        hits: list[str] = []
        seen: set[str] = set()
        stack = list(readers.get(name, ()))
        while stack:
            reader = stack.pop()
            if reader in seen:
                continue
            seen.add(reader)
            if reader in quantized:
                hits.append(reader)
            elif passes_through(reader):
                stack.extend(readers.get(reader, ()))
        if hits:
            found[name] = sorted(set(hits))
    return found


def _keep_depthwise_readers_float(plan: Int8Plan, depthwise: Callable[[], Mapping[str, Sequence[str]]],
                                  ctx: Any, singular: str) -> None:
    """Where TensorRT mis-fuses a Quantize into a float depthwise convolution, the quantized
    ops reading one stay in float too (not recorded in the cache: it serves every version).
    The route's graph is walked only then."""
    tensorrt = getattr(ctx, "tensorrt", None)
    facts = getattr(tensorrt, "facts", None)
    if facts is None or facts.quantizes_float_depthwise_output or not plan.unquantized:
        return
    readers = depthwise()
    kept = set(plan.unquantized)
    extra = sorted({r for d in plan.unquantized if d in readers for r in readers[d] if r not in kept})
    if not extra:
        return
    plan.unquantized = [*plan.unquantized, *extra]
    ctx.note(f"int8: {len(extra)} {singular}(s) reading a float depthwise convolution kept in "
             f"float too ({facts.label} mis-fuses the Quantize into the float kernel): "
             + ", ".join(extra[:6]) + (" ..." if len(extra) > 6 else ""))


def plan_int8(
    *,
    route: str,
    calibration: Any,
    fingerprint: str,
    keys: Sequence[str],
    input_names: Sequence[str],
    measure: Measure,
    choose: Choose,
    min_cosine: float,
    ctx: Any,
    expected: Mapping[str, Any] | None = None,
    measure_names: Sequence[str] | None = None,
    candidates: Sequence[str] | None = None,
    first_samples: Callable[[Calibration], list[dict[str, Any]]] | None = None,
    unit: str = "ops",
    calibrate_stage: bool = True,
    depthwise: Callable[[], Mapping[str, Sequence[str]]] | None = None,
) -> Int8Plan:
    """Ranges for ``keys`` (from the cache where it has them, else measured) and the ops kept
    in float (accuracy control, or the cache's recorded choice), limited to ``candidates``.

    ``measure_names``: what to measure when calibrating (default: the missing keys; a route
    may measure more, so the shared cache serves other routes too). ``first_samples``: the
    samples for accuracy control when no calibration ran (default: the first batches).
    ``depthwise``: computes :func:`depthwise_readers` of the route's graph; called only for
    TensorRT versions that need the readers of a float depthwise convolution in float too.
    """
    calib = as_calibration(calibration)
    if calib is None:
        raise UsageError(f"{route} int8 needs calibration data or a calibration cache",
                         hint="pass calibration=<array or iterable of batches> or "
                         "Calibration(data=..., cache='calib.json')")
    method = Method.parse(calib.method)
    path = Path(calib.cache) if calib.cache is not None else None
    cache = _load(path, fingerprint, calib, method, keys, ctx)
    changed = False
    if cache is None:
        cache = CalibrationCache(model_fingerprint=fingerprint, method=method.label, producer=route)
    plan = Int8Plan(cache=cache, path=path, calibration=calib, method=method)
    missing = cache.missing(keys)
    if missing:
        names = list(measure_names) if measure_names is not None else missing
        batches = calib.batches(list(input_names), expected)
        if calibrate_stage:
            with ctx.stage("calibrate", f"INT8 ranges ({method.label})"):
                ranges, count, plan.samples = measure(batches, names, method, MAX_SAMPLES)
        else:
            ranges, count, plan.samples = measure(batches, names, method, MAX_SAMPLES)
        cache.update(ranges)
        cache.batches = max(cache.batches, count)
        cache.unquantized = None  # new ranges: the float choice is made again
        changed = True
        ctx.note(f"int8: calibrated {len(ranges)} tensor range(s) on {count} batch(es) ({method.label})"
                 + (f", written to {path}" if path is not None else ""))
        still = cache.missing(keys)
        if still:
            raise ConversionError(f"calibration recorded no range for {still[:5]}", route=route,
                                  hint="check that the calibration batches match the model inputs")
    singular = unit[:-1] if unit.endswith("s") else unit
    if cache.unquantized is None and min_cosine > 0 and (plan.samples or calib.data is not None):
        samples = plan.samples or (first_samples(calib) if first_samples is not None
                                   else _first_batches(calib, input_names, expected))
        with ctx.stage("accuracy", f"INT8 {unit} kept in float for cosine >= {min_cosine}"):
            report = choose(cache, samples, min_cosine)
        ctx.note(f"int8 accuracy control: {report.describe()}")
        cache.unquantized = list(report.float_nodes)
        changed = True
    elif cache.unquantized is None:
        ctx.note(f"int8: every quantizable {singular} in INT8 (no accuracy control: "
                 + ("disabled by int8_min_cosine=0)" if min_cosine <= 0 else "no calibration data)"))
    elif cache.unquantized:
        ctx.note(f"int8: {len(cache.unquantized)} {singular}(s) kept in float, as the calibration "
                 f"cache records")
    if changed and path is not None:
        cache.save(path)
    allowed = set(candidates) if candidates is not None else None
    plan.unquantized = [n for n in (cache.unquantized or []) if allowed is None or n in allowed]
    if depthwise:
        _keep_depthwise_readers_float(plan, depthwise, ctx, singular)
    return plan


def _load(path: Path | None, fingerprint: str, calibration: Calibration, method: Method,
          keys: Sequence[str], ctx: Any) -> CalibrationCache | None:
    """The cache to start from, or None to calibrate afresh."""
    if path is None or not path.is_file():
        return None
    cache = CalibrationCache.load(path, model_fingerprint=fingerprint)
    if calibration.data is not None and cache.method != method.label:
        ctx.note(f"int8: calibration cache {path} holds {cache.method} ranges, {method.label} "
                 f"was asked for; calibrating again")
        return None
    missing = cache.missing(keys)
    if missing:
        ctx.note(f"int8: calibration cache {path} lacks {len(missing)} of {len(keys)} ranges; calibrating")
    else:
        ctx.note(f"int8: all {len(keys)} ranges read from calibration cache {path} ({cache.method}); "
                 f"calibration skipped")
    return cache


def _first_batches(calibration: Calibration, input_names: Sequence[str],
                   expected: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The first calibration batches, up to MAX_SAMPLES samples."""
    samples, kept = [], 0
    for batch in calibration.batches(list(input_names), expected):
        samples.append(batch)
        value = next(iter(batch.values()), None)
        kept += int(value.shape[0]) if value is not None and getattr(value, "ndim", 0) else 1
        if kept >= MAX_SAMPLES:
            break
    return samples
