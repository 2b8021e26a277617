"""Build an engine from a network snapshot: convert where the framework is, build where the GPU is.

Why: the machine with the GPU often lacks the frameworks (TensorFlow, the full torch stack) and
the machine with the frameworks lacks the GPU. Every conversion can save its TensorRT network
as a snapshot (JSON + .npz); :func:`build_snapshot` replays it into whatever TensorRT is
installed here and builds it for this GPU (or an ahead-of-time target on TensorRT-RTX). The
result is a normal :class:`~trtforge.conversion.engine.Engine` whose metadata names the snapshot, and the
source and route the snapshot came from.

Before building, :func:`unsupported_parts` lists everything in the snapshot this TensorRT
cannot express (data types such as int64 on TensorRT 8.6, layer kinds, layer attributes),
by layer name, so a snapshot fails once with the whole list instead of layer by layer.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
from pathlib import Path
from typing import Any, Iterable, Sequence

from trtforge.errors import UsageError
from trtforge.conversion.specs import BuildSettings, InputSpec, Precision, Target

log = logging.getLogger(__name__)


def unsupported_parts(snapshot: Any, tensorrt: Any, lower_int64: bool | None = None) -> list[str]:
    """Everything in ``snapshot`` the installed TensorRT cannot replay, by layer name.

    ``lower_int64`` (default: when this TensorRT has no int64) accepts int64 inside the network,
    which replay turns into int32; int64 network inputs/outputs and int64 constants outside the
    int32 range stay unsupported.
    """
    from trtforge.verify.layer_kinds import KINDS
    from trtforge.verify.snapshot import SHUFFLE_STAND_INS, _layer_class, _rank, int64_fits_int32, is_implicit

    trt = tensorrt.module
    if lower_int64 is None:
        lower_int64 = not hasattr(trt.DataType, "INT64")
    problems: list[str] = []

    def dtype_ok(name: str, inside: bool = True) -> bool:
        if name == "int64" and lower_int64 and inside:
            return True
        try:
            tensorrt.trt_dtype(name)
            return True
        except UsageError:
            return False

    for spec in snapshot.inputs:
        if not dtype_ok(spec["dtype"], inside=False):
            problems.append(f"input {spec['name']!r}: data type {spec['dtype']}")
    outputs = {spec["name"] for spec in snapshot.outputs}
    network_class = getattr(trt, "INetworkDefinition", None)
    constants = {out["name"] for layer in snapshot.layers if layer["type"] == "CONSTANT"
                 for out in layer["outputs"]}
    for layer in snapshot.layers:
        kind, where = layer["type"], f"layer {layer['name']!r} ({layer['type']})"
        row = KINDS.get(kind)
        method = row.add if row is not None else None
        if kind in SHUFFLE_STAND_INS and network_class is not None and not hasattr(network_class, method):
            if len(layer["inputs"]) < 2 or layer["inputs"][1] not in constants:
                problems.append(f"{where}: {kind} layers with axes computed at run time")
            continue
        if kind == "NORMALIZATION" and layer["attrs"].get("is_v2"):
            method = "add_normalization_v2"
        cls = _layer_class(trt, kind)
        if method is None or cls is None or (network_class is not None and not hasattr(network_class, method)):
            problems.append(f"{where}: {kind} layers")
            continue
        for attr, value in layer["attrs"].items():
            enum = row.enums.get(attr)
            if enum is not None and isinstance(value, str) and hasattr(cls, "type" if attr == "kind" else attr):
                if enum == "DataType":
                    from trtforge.tensorrt.trt import _DTYPE_NAMES

                    if not dtype_ok(_DTYPE_NAMES.get(value, value.lower())):
                        problems.append(f"{where}: data type {value}")
                elif value not in getattr(getattr(trt, enum, None), "__members__", {}):
                    problems.append(f"{where}: {enum}.{value}")
                continue
            if isinstance(value, dict) and lower_int64:
                array = snapshot.weight(value)
                if array is not None and array.dtype.name == "int64" and not int64_fits_int32(array):
                    problems.append(f"{where}: int64 {attr} outside the int32 range")
                continue
            if lower_int64 and value == "INT64":
                value = "INT32"  # replay lowers int64 output types too
            if attr != "kind" and not hasattr(cls, attr) and not is_implicit(kind, attr, value, _rank(layer)):
                problems.append(f"{where}: attribute {attr}={value!r}")
        for out in layer["outputs"]:
            if not dtype_ok(out["dtype"], inside=out["name"] not in outputs):
                problems.append(f"{where}: output {out['name']!r} of data type {out['dtype']}")
    return problems


def _origin(snapshot: Any, path: Path) -> dict[str, Any]:
    """Route, precision and source of the snapshot: recorded in it, or in an engine sidecar beside it."""
    origin = dict(snapshot.graph.get("origin") or {})
    if origin:
        return origin
    from trtforge.verify.snapshot import JSON_SUFFIX

    name = path.name[: -len(JSON_SUFFIX)] if path.name.endswith(JSON_SUFFIX) else path.name
    sidecar = path.with_name(name + ".json")
    if sidecar.is_file():
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            return {k: meta.get(k) for k in ("route", "precision", "source", "target", "tensorrt")}
        except (OSError, ValueError) as exc:
            log.warning("engine sidecar %s beside the snapshot is unreadable (%s)", sidecar, exc)
    return {}


def _profiles(snapshot: Any, inputs: Iterable[Any] | None) -> list[InputSpec]:
    """The snapshot's own input profiles, with those named in ``inputs`` replaced."""
    specs = [InputSpec.from_dict(p) for p in snapshot.profiles]
    given = [InputSpec.parse(i) if isinstance(i, str) else i for i in (inputs or [])]
    names = [t["name"] for t in snapshot.inputs]
    for spec in given:
        if not isinstance(spec, InputSpec):
            raise UsageError(f"cannot use {type(spec).__name__} as an input spec for a snapshot",
                             hint="pass InputSpec(...) or 'name:dtype:min,opt,max'")
        name = spec.name or (names[0] if len(names) == 1 else None)
        if name not in names:
            raise UsageError(f"input spec {spec.name!r} matches no snapshot input",
                             hint=f"the snapshot's inputs are {names}")
        specs = [s for s in specs if s.name != name] + [spec.with_name(name)]
    return specs


def _precision(requested: str | Precision | None, own: str, facts: Any) -> Precision:
    """The precision to build at; refuses what this TensorRT cannot honour from this snapshot."""
    own_p = Precision.parse(own)
    if requested is None:
        return own_p
    wanted = Precision.parse(requested)
    if wanted is own_p:
        return wanted
    if not facts.precision_via_builder_flags:
        raise UsageError(
            f"{facts.label} is strongly typed: the snapshot's own data types decide its precision "
            f"({own_p.value}); it cannot be built at {wanted.value}",
            hint=f"convert the model again with --precision {wanted.value} --snapshot where the "
            f"framework is, or build this snapshot at {own_p.value}")
    if own_p is not Precision.FP32:
        raise UsageError(
            f"the snapshot holds {own_p.value} tensors; {facts.label} can lower an fp32 snapshot "
            f"with builder flags but cannot build this one at {wanted.value}",
            hint=f"build it at {own_p.value}, or convert again at {wanted.value}")
    if wanted is Precision.INT8:
        raise UsageError(
            "an fp32 snapshot has no quantization scales: int8 needs calibration in the framework",
            hint="convert with --precision int8 (--snapshot) where the framework and data are")
    if wanted is Precision.BF16 and not facts.supports_bf16:
        raise UsageError(f"{facts.label} does not support bf16", hint="use fp16 on this TensorRT")
    return wanted


def build_snapshot(
    path: str | Path,
    precision: str | Precision | None = None,
    inputs: Sequence[Any] | None = None,
    target: str | Target | None = None,
    settings: BuildSettings | None = None,
    *,
    lower_int64: bool | None = None,
) -> Any:
    """Replay the snapshot at ``path`` (``X.snapshot.json`` or the engine ``X`` it sits beside)
    into the installed TensorRT and build it for this GPU or ``target``; returns an Engine.

    ``lower_int64`` (default: when this TensorRT has no int64, i.e. 8.x) replays int64 shape
    arithmetic as int32 (see :func:`trtforge.verify.snapshot.replay`).
    """
    from trtforge import __version__
    from trtforge.verify.checking import snapshot_precision
    from trtforge.conversion.engine import FORMAT_VERSION, Engine
    from trtforge.progress import Stages
    from trtforge.verify.snapshot import Snapshot, attach_snapshot, replay, snapshot_for_engine
    from trtforge.tensorrt.trt import get_tensorrt

    path = Path(path).expanduser()
    snapshot = Snapshot.load(path)
    tensorrt = get_tensorrt()
    origin = _origin(snapshot, path)
    # Weakly typed TensorRT made fp16/int8 with builder flags (fp32 tensors): the recorded
    # precision says what was asked. Strongly typed TensorRT only has the tensors' types.
    own = snapshot_precision(snapshot)
    if tensorrt.facts.precision_via_builder_flags and origin.get("precision"):
        own = str(origin["precision"])
    chosen = _precision(precision, own, tensorrt.facts)
    problems = unsupported_parts(snapshot, tensorrt, lower_int64)
    if problems:
        from trtforge.errors import UnsupportedOperationsError

        raise UnsupportedOperationsError(
            f"{tensorrt.facts.label} cannot build this snapshot: {len(problems)} unsupported "
            f"part(s): " + "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""),
            unsupported=problems,
            hint="convert again with a route/exporter that targets this TensorRT version "
            "(e.g. int32 shape tensors for TensorRT < 10)")
    profiles = _profiles(snapshot, inputs)
    settings = settings or BuildSettings()
    if not settings.timing_cache:
        from dataclasses import replace

        from trtforge.conversion.cache import EngineCache
        from trtforge.tensorrt.timing_cache import default_timing_cache_path

        settings = replace(settings, timing_cache=str(default_timing_cache_path(
            EngineCache().root, tensorrt, Target.parse(target) if target else None)))
    stages = Stages(prefix="snapshot: ")
    with stages.stage("replay", f"{path.name} -> {tensorrt.facts.label} network"):
        replayed = replay(snapshot, tensorrt, lower_int64=lower_int64)
    network = replayed.network
    rebuilt = snapshot_for_engine(network, tensorrt, profiles, str(origin.get("route") or "snapshot"))
    with stages.stage("build", f"target {target or 'this GPU'}"):
        result = tensorrt.build(network, inputs=profiles, precision=chosen, target=target,
                                settings=settings)
    network_inputs, network_outputs = tensorrt.network_io(network)
    source = dict(origin.get("source") or {"name": path.name, "kind": "snapshot", "fingerprint": None})
    metadata = {
        "format_version": FORMAT_VERSION,
        "trtforge_version": __version__,
        "tensorrt": {"flavor": tensorrt.flavor, "version": tensorrt.version},
        "target": result.target,
        "precision": chosen.value,
        "route": origin.get("route") or "snapshot",
        "inputs": [i.to_dict() for i in network_inputs],
        "outputs": [o.to_dict() for o in network_outputs],
        "profiles": [s.to_dict() for s in profiles],
        "source": source,
        "from_snapshot": {
            "path": str(path), "precision": own, "tensorrt": snapshot.graph.get("tensorrt"),
            "target": origin.get("target"), "layers": len(snapshot.layers),
            "int64_lowered": list(replayed.lowered),
        },
        "build": {
            "settings": result.settings,
            "seconds": round(result.seconds, 4),
            "stages": {k: round(v, 4) for k, v in stages.times.items()},
            "options": {},
        },
        "network": {"layers": network.num_layers},
        "notes": [f"built from snapshot {path.name} (made with "
                  f"{(snapshot.graph.get('tensorrt') or {}).get('flavor')} "
                  f"{(snapshot.graph.get('tensorrt') or {}).get('version')})"],
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if replayed.lowered:
        metadata["notes"].append(f"int64 shape arithmetic replayed as int32 in {len(replayed.lowered)} "
                                 f"layer(s) (" + (f"{tensorrt.facts.label} has no int64 tensors"
                                 if not hasattr(tensorrt.module.DataType, "INT64") else "asked for") + ")")
    engine = Engine(plan=result.plan, metadata=metadata)
    attach_snapshot(engine, rebuilt)
    return engine
