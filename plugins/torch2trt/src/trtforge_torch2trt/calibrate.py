"""INT8 calibration in PyTorch: the exported graph is run by an FX interpreter over the user's
calibration batches and the largest absolute value of every tensor that gets a Q/DQ pair is
recorded (``max`` calibration, symmetric ranges). Ranges are keyed by torch.export node names
and stored in the core calibration cache (:mod:`trtforge.calibration`), so a cache written by
another route for the same model and names is reused, and ours can be reused by it.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterable

from trtforge.calibration import CalibrationCache, as_calibration
from trtforge.errors import UsageError

from trtforge_torch2trt import ROUTE
from trtforge_torch2trt.capture import Captured
from trtforge_torch2trt.converters import CONST

log = logging.getLogger(__name__)

# op name -> argument positions whose (activation) values are quantized
QUANTIZED_INPUTS = {
    "aten.convolution.default": (0,),
    "aten.addmm.default": (1, 2),
    "aten.mm.default": (0, 1),
    "aten.bmm.default": (0, 1),
    "aten.matmul.default": (0, 1),
    "aten.add.Tensor": (0, 1),
}


def quantized_keys(graph: Any) -> list[str]:
    """Node names whose values get Q/DQ pairs (the ranges INT8 needs)."""
    from trtforge_torch2trt.registry import target_name

    keys: list[str] = []
    for node in graph.nodes:
        if node.op != "call_function" or node.meta.get(CONST):
            continue
        positions = QUANTIZED_INPUTS.get(target_name(node.target))
        if not positions:
            continue
        inputs = [node.args[i] for i in positions if i < len(node.args)]
        if target_name(node.target) == "aten.add.Tensor" and not all(
            hasattr(a, "meta") and not a.meta.get(CONST) for a in inputs
        ):
            continue  # a bias-like constant add is not a residual add
        for value in inputs:
            if hasattr(value, "meta") and not value.meta.get(CONST) and value.name not in keys:
                keys.append(value.name)
    return keys


def record_ranges(captured: Captured, batches: Iterable[dict[str, Any]], keys: Iterable[str]) -> tuple[dict[str, float], int]:
    """Run the exported graph on every batch; amax of each tensor named in ``keys``."""
    import numpy as np
    import torch
    from torch.fx import Interpreter

    wanted = set(keys)
    ranges: dict[str, float] = {}

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
                amax = float(result.detach().abs().max()) if result.numel() else 0.0
                ranges[n.name] = max(amax, ranges.get(n.name, 0.0))
            return result

    graph_module = captured.program.graph_module
    recorder = Recorder(graph_module)
    count = 0
    placeholders = [n for n in captured.graph.nodes if n.op == "placeholder"]
    dtypes = {s.name: getattr(torch, s.dtype) for s in captured.specs}
    with torch.no_grad():
        for batch in batches:
            feeds, position = [], 0
            for p in placeholders:
                if p.name in captured.constants:
                    feeds.append(captured.constants[p.name])
                else:
                    name = captured.input_names[position]
                    position += 1
                    feeds.append(torch.as_tensor(np.asarray(batch[name])).to(dtypes[name]))
            recorder.run(*feeds)
            count += 1
    return ranges, count


def calibration_ranges(captured: Captured, source: Any, spec: Any, ctx: Any) -> dict[str, float]:
    """Ranges from the calibration cache if complete, else calibrate (and update the cache)."""
    calibration = as_calibration(spec.calibration)
    if calibration is None:
        raise UsageError(
            f"{ROUTE} int8 needs calibration data",
            hint="pass calibration=<array or iterable of batches> or Calibration(data=..., cache=...)",
        )
    keys = quantized_keys(captured.graph)
    cache: CalibrationCache | None = None
    cache_path = Path(calibration.cache) if calibration.cache else None
    if cache_path is not None and cache_path.is_file():
        cache = CalibrationCache.load(cache_path, model_fingerprint=source.fingerprint)
        missing = cache.missing(keys)
        if not missing:
            ctx.note(f"int8: all {len(keys)} ranges read from calibration cache {cache_path}")
            return {k: cache.ranges[k] for k in keys}
        ctx.note(f"int8: calibration cache {cache_path} lacks {len(missing)} of {len(keys)} ranges; calibrating")
    every = [n.name for n in captured.graph.nodes
             if n.op in ("placeholder", "call_function") and not n.meta.get(CONST)]
    ranges, count = record_ranges(captured, calibration.batches(captured.input_names), every)
    if cache is None:
        cache = CalibrationCache(model_fingerprint=source.fingerprint, method="max", producer=ROUTE)
    cache.update(ranges)
    cache.batches = max(cache.batches, count)
    if cache_path is not None:
        cache.save(cache_path)
        ctx.note(f"int8: wrote {len(cache.ranges)} ranges to {cache_path}")
    missing = [k for k in keys if k not in cache.ranges]
    if missing:
        raise UsageError(f"calibration recorded no range for {missing[:5]}",
                         hint="check that the calibration batches match the model inputs")
    return {k: cache.ranges[k] for k in keys}
