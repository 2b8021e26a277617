"""Per-layer profile of an engine on the GPU: where the time goes and which ops were fused.

Why: ``trtexec --dumpProfile`` (seed 003) shows time per *engine* layer, but an engine layer
is a fused kernel ("conv1 + relu1") whose name says little about the model. This module
times every engine layer with TensorRT's ``IProfiler``, asks the engine inspector
(``IEngineInspector``, JSON, needs ``ProfilingVerbosity.DETAILED`` at build time, which
trtforge sets) which network layers each one fused, and maps those back to source ops: the
inspector's ``Metadata`` (``[ONNX Layer: name]`` from the ONNX parser, the FX node torch2trt
sets), else the fused names looked up in the engine's network snapshot.

:func:`profile_engine` needs a GPU; :func:`build_report` is the pure part (tested on CPU).
"""
from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from trtforge.atomic import atomic_write_json
from trtforge.errors import UsageError

log = logging.getLogger(__name__)

_RECORD_SEPARATOR = "\x1e"  # TensorRT joins the metadata of fused layers with it
_ONNX_LAYER = re.compile(r"^\[ONNX Layer: (.*)\]$")
# Separators inside fused engine layer names: "a + b", "PWN(a, b)", "{ForeignNode[a...b]}".
_REFORMAT = ("Reformatting CopyNode", "Reformatted ")
_BEFORE = (" + ", "(", ", ", "[", "...")
_AFTER = (" + ", ")", ", ", "]", "...", " [profile")  # names of profile k > 0 end " [profile k]"
_NAME_SPLIT = re.compile(r" \+ |, |PWN\(|\)|\{ForeignNode\[|\]\}|\.\.\.")


@dataclass
class LayerProfile:
    """One engine layer (kernel): its time and the network layers / source ops behind it."""

    name: str
    total_ms: float
    calls: int
    share: float
    layer_type: str | None = None
    tactic: str | None = None
    fused: list[str] = field(default_factory=list)    # network layer names
    sources: list[str] = field(default_factory=list)  # source model ops

    @property
    def average_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "total_ms": self.total_ms, "average_ms": self.average_ms,
                "calls": self.calls, "share": self.share, "layer_type": self.layer_type,
                "tactic": self.tactic, "fused": list(self.fused), "sources": list(self.sources)}


@dataclass
class ProfileReport:
    """Layers sorted by time; ``total_ms`` is the per-iteration sum over layers."""

    engine: str
    batch: int
    iterations: int
    layers: list[LayerProfile]
    wall_ms: float | None = None  # per iteration, host-measured (profiling makes it synchronous)
    environment: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def total_ms(self) -> float:
        return sum(layer.total_ms for layer in self.layers) / max(self.iterations, 1)

    @property
    def mapped(self) -> int:
        return sum(1 for layer in self.layers if layer.sources)

    def top(self, n: int) -> tuple[list[LayerProfile], LayerProfile | None]:
        """The ``n`` slowest layers and one "others" row summing the rest (None if no rest)."""
        head, rest = self.layers[:n], self.layers[n:]
        if not rest:
            return head, None
        others = LayerProfile(
            name=f"others ({len(rest)} layers)", total_ms=sum(x.total_ms for x in rest),
            calls=self.iterations, share=sum(x.share for x in rest))
        return head, others

    def to_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "batch": self.batch, "iterations": self.iterations,
                "total_ms": self.total_ms, "wall_ms": self.wall_ms, "layer_count": len(self.layers),
                "mapped_layers": self.mapped, "environment": dict(self.environment),
                "notes": list(self.notes), "layers": [x.to_dict() for x in self.layers]}

    def write(self, path: str | Path) -> Path:
        return atomic_write_json(path, self.to_dict())


# --- the pure part ------------------------------------------------------------------------
def parse_engine_information(text: str | None) -> dict[str, dict[str, Any]]:
    """The inspector's JSON as ``{engine layer name: layer record}`` (names-only: no details)."""
    if not text:
        return {}
    try:
        # strict=False: TensorRT 8.6 writes raw control characters inside strings (the ONNX
        # parser's layer metadata separators), which strict JSON refuses.
        data = json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        log.warning("engine inspector output is not JSON (%s); no fused-layer details", exc)
        return {}
    layers = data.get("Layers", []) if isinstance(data, dict) else []
    result: dict[str, dict[str, Any]] = {}
    for item in layers:
        record = item if isinstance(item, dict) else {"Name": str(item)}
        if "Name" in record:
            result[str(record["Name"])] = record
    return result


def _metadata_sources(metadata: Any) -> list[str]:
    if not metadata or not isinstance(metadata, str):
        return []
    found = []
    for part in metadata.split(_RECORD_SEPARATOR):
        part = part.strip()
        match = _ONNX_LAYER.match(part)
        if match:
            part = match.group(1)
        if part and part not in found:
            found.append(part)
    return found


def split_fused_name(name: str, known: Mapping[str, Any] | None = None) -> list[str]:
    """Network layer names inside an engine layer name, in the order they appear.

    With ``known`` (the network's layer names) only those are returned, found as whole
    names between the separators TensorRT uses (``a + b``, ``PWN(a, b)``,
    ``{ForeignNode[a...b]}``), so names holding brackets themselves still match.
    """
    if known is not None and name in known:
        return [name]
    if name.startswith(_REFORMAT):  # layout conversions TensorRT inserted: no source op
        return []
    if known is None:
        parts = [p.strip() for p in _NAME_SPLIT.split(name)]
        return list(dict.fromkeys(p for p in parts if p))
    found: dict[str, int] = {}
    for candidate in known:
        if not candidate:
            continue
        at = name.find(candidate)
        while at >= 0:
            before, after = name[:at], name[at + len(candidate):]
            if (not before or before.endswith(_BEFORE)) and (not after or after.startswith(_AFTER)):
                found[candidate] = at
                break
            at = name.find(candidate, at + 1)
    return sorted(found, key=lambda n: (found[n], -len(n)))


def build_report(
    times: Mapping[str, tuple[float, int]],
    *,
    engine: str,
    batch: int,
    iterations: int,
    inspector: Mapping[str, Mapping[str, Any]] | None = None,
    network_layers: Mapping[str, str] | None = None,
    wall_ms: float | None = None,
    environment: Mapping[str, Any] | None = None,
) -> ProfileReport:
    """Combine profiler times ``{layer: (total ms, calls)}`` with the inspector's layer records
    and the network's ``{layer name: metadata}`` (from the snapshot) into a report."""
    inspector = inspector or {}
    grand = sum(total for total, _ in times.values())
    layers = []
    for name, (total, calls) in times.items():
        record = inspector.get(name, {})
        fused = split_fused_name(name, network_layers)
        sources = _metadata_sources(record.get("Metadata"))
        if not sources and network_layers is not None:
            sources = [network_layers[f] or f for f in fused]
        elif not sources:
            sources = list(fused)
        layers.append(LayerProfile(
            name=name, total_ms=float(total), calls=int(calls),
            share=float(total) / grand if grand > 0 else 0.0,
            layer_type=record.get("LayerType"), tactic=record.get("TacticName"),
            fused=fused, sources=sources))
    layers.sort(key=lambda x: (-x.total_ms, x.name))
    report = ProfileReport(engine=engine, batch=batch, iterations=iterations, layers=layers,
                           wall_ms=wall_ms, environment=dict(environment or {}))
    if inspector and not any("LayerType" in r for r in inspector.values()):
        report.notes.append("the plan keeps layer names only (not built with detailed profiling "
                            "verbosity): no kernel types, tactics or metadata")
    if layers and not report.mapped:
        report.notes.append("no engine layer could be mapped to a source op")
    return report


def network_layer_metadata(snapshot: Any) -> dict[str, str] | None:
    """``{network layer name: metadata}`` from an engine's snapshot (None without one)."""
    if snapshot is None:
        return None
    return {layer["name"]: layer.get("metadata") or "" for layer in snapshot.graph["layers"]}


# --- the GPU part -------------------------------------------------------------------------
def _make_profiler(trt: Any) -> Any:
    class LayerTimes(trt.IProfiler):  # type: ignore[misc, name-defined]
        """Adds up TensorRT's per-layer times while ``recording``."""

        def __init__(self) -> None:
            trt.IProfiler.__init__(self)
            self.recording = False
            self.times: dict[str, list[float]] = {}

        def report_layer_time(self, layer_name: str, ms: float) -> None:
            if self.recording:
                entry = self.times.setdefault(layer_name, [0.0, 0])
                entry[0] += float(ms)
                entry[1] += 1

    return LayerTimes()


def profile_engine(engine: Any, batch: int | None = None, iterations: int = 100,
                   warmup: int = 10) -> ProfileReport:
    """Run ``engine`` ``iterations`` times at ``batch`` with an ``IProfiler`` attached.

    Raises :class:`~trtforge.errors.RuntimeUnavailableError` (with the reason and a hint)
    where the plan cannot run, before touching the GPU.
    """
    if iterations < 1:
        raise UsageError("iterations must be at least 1")
    from trtforge.tensorrt.runtime import EngineRunner

    runner = EngineRunner(engine)  # checks that the plan can run here first
    torch = runner._torch
    trt = runner.tensorrt.module
    batch = batch if batch is not None else _default_batch(runner)
    inputs = runner.example_inputs(batch)
    shapes = {n: tuple(v.shape) for n, v in inputs.items()}
    context = runner._context
    with torch.cuda.device(runner.device):
        views = runner._prepare(shapes)
        with torch.cuda.stream(runner.stream):
            for name, value in inputs.items():
                views[name].copy_(value)
        runner.stream.synchronize()
        inspector_json = _inspect(runner, trt)
        profiler = _make_profiler(trt)
        context.profiler = profiler
        key = runner._graph_key(shapes)
        try:
            for _ in range(warmup):
                runner._execute(key)
            runner.stream.synchronize()
            profiler.recording = True
            start = time.perf_counter()
            for _ in range(iterations):
                runner._execute(key)
            runner.stream.synchronize()
            wall = (time.perf_counter() - start) * 1000.0 / iterations
            profiler.recording = False
            if not getattr(context, "enqueue_emits_profile", True) and hasattr(context, "report_to_profiler"):
                context.report_to_profiler()
        finally:
            profiler.recording = False
    from trtforge.tensorrt.gpu import probe_gpus
    from trtforge.verify.snapshot import engine_snapshot

    try:
        snapshot = engine_snapshot(engine)
    except Exception as exc:  # a missing or unreadable snapshot only costs the op mapping
        log.info("no snapshot for op mapping: %s", exc)
        snapshot = None
    gpu = probe_gpus().gpus[0]
    meta = engine.metadata
    report = build_report(
        {name: (total, calls) for name, (total, calls) in profiler.times.items()},
        engine=str(engine.path or _name(meta)), batch=batch, iterations=iterations,
        inspector=parse_engine_information(inspector_json),
        network_layers=network_layer_metadata(snapshot), wall_ms=wall,
        environment={"gpu": f"{gpu.name} ({gpu.sm})", "tensorrt": runner.tensorrt.facts.label,
                     "route": meta.get("route"), "precision": meta.get("precision"),
                     "shapes": {n: list(s) for n, s in shapes.items()},
                     "profiling_verbosity": (meta.get("build") or {}).get("settings", {}).get(
                         "profiling_verbosity")},
    )
    if not profiler.times:
        report.notes.append("TensorRT reported no layer times")
    return report


def _inspect(runner: Any, trt: Any) -> str | None:
    cuda_engine = runner._cuda_engine
    if not hasattr(cuda_engine, "create_engine_inspector"):
        return None
    try:
        inspector = cuda_engine.create_engine_inspector()
        inspector.execution_context = runner._context
        return inspector.get_engine_information(trt.LayerInformationFormat.JSON)
    except Exception as exc:  # the inspector is optional information
        log.warning("engine inspector failed (%s); no fused-layer details", exc)
        return None


def _default_batch(runner: Any) -> int:
    """The first profile's opt batch, or the fixed batch of the first input."""
    first = runner.inputs[0]
    if runner._profiles and first.name in runner._profiles[0]:
        return int(runner._profiles[0][first.name][1][0])
    return int(first.declared[0]) if first.declared else 1


def _name(meta: Mapping[str, Any]) -> str:
    source = (meta.get("source") or {}).get("name", "engine")
    return f"{source} ({meta.get('route')}, {meta.get('precision')})"


def format_rows(report: ProfileReport, top: int) -> list[Sequence[Any]]:
    """Table rows for the CLI: rank, layer, type, total, average, share, source ops."""
    head, others = report.top(top)
    rows: list[Sequence[Any]] = []
    for k, layer in enumerate(head, 1):
        sources = ", ".join(layer.sources[:4]) + (f" (+{len(layer.sources) - 4})" if len(layer.sources) > 4 else "")
        rows.append((k, layer.name, layer.layer_type or "", f"{layer.total_ms:.3f}",
                     f"{layer.average_ms:.4f}", f"{layer.share:.1%}", sources or "-"))
    if others is not None:
        rows.append(("", others.name, "", f"{others.total_ms:.3f}",
                     f"{others.total_ms / max(report.iterations, 1):.4f}", f"{others.share:.1%}", ""))
    return rows
