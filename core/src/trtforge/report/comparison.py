"""``trtforge.compare``: one model through many routes and precisions, in one report.

Each route x precision is converted independently; a failure becomes a row with its reason and
the unsupported operations, and the comparison goes on. For every engine built, the row gets
the conversion stages, the engine size and layer count, the numerical agreement with the
source framework (reference executor on CPU via ``trtforge.check``, or the GPU run), accuracy
on labelled data, and GPU timings where engines can run. Each column that cannot be measured
on this machine says why.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from trtforge.arrays import to_numpy
from trtforge.errors import TrtforgeError, UsageError
from trtforge.report.table import Baseline, Report, Row

log = logging.getLogger(__name__)

DEFAULT_PRECISIONS = ("fp32", "fp16", "int8")
EVAL_BATCH = 64
FALLBACK_TARGET = "sm89"  # what the demo and the CLI build for where nothing else is known


def default_target(target: str | None, *, facts: Any = None, gpus: Any = None) -> str | None:
    """The target given; else ``sm89`` only where TensorRT needs one named (TensorRT-RTX on a
    machine without a GPU); else None, so the adapter builds for this machine's GPU.

    ``facts`` (:class:`trtforge.tensorrt.trt.TrtFacts`) and ``gpus`` (:class:`trtforge.tensorrt.gpu.GpuProbe`)
    default to this machine's.
    """
    if target:
        return str(target)
    if facts is None:
        from trtforge.tensorrt.trt import get_tensorrt

        try:
            facts = get_tensorrt().facts
        except TrtforgeError:
            return None  # no TensorRT: the conversion itself says so, with its hint
    if not facts.ahead_of_time_targets:
        return None  # full TensorRT builds for the GPU it runs on, whichever that is
    if gpus is None:
        from trtforge.tensorrt.gpu import probe_gpus

        gpus = probe_gpus()
    return None if gpus.found else FALLBACK_TARGET


class _NotMeasured(Exception):
    """A column cannot be measured; the message is the reason shown in the report."""


@dataclass
class LabelledData:
    """Inputs (one array, batch first) and integer class labels, for accuracy."""

    x: Any
    y: Any

    @classmethod
    def of(cls, data: Any) -> "LabelledData | None":
        if data is None or isinstance(data, LabelledData):
            return data
        if isinstance(data, (tuple, list)) and len(data) == 2:
            import numpy as np

            x, y = np.asarray(data[0]), np.asarray(data[1])
            if len(x) != len(y):
                raise UsageError(f"labelled data has {len(x)} inputs but {len(y)} labels")
            return cls(x, y)
        raise UsageError("data must be (inputs, labels)",
                         hint="pass data=(x, y) with x batch-first and y integer class labels")


def accuracy_of(logits: Any, labels: Any) -> float:
    import numpy as np

    return float(np.mean(np.asarray(logits).reshape(len(labels), -1).argmax(axis=1) == np.asarray(labels)))


# --- how to run things ------------------------------------------------------------------
def _batches(x: Any, size: int) -> list[Any]:
    return [x[i:i + size] for i in range(0, len(x), size)]


def _run_batched(run: Callable[[list[Any]], list[Any]], x: Any, size: int = EVAL_BATCH) -> list[Any]:
    import numpy as np

    parts = [run([b]) for b in _batches(x, max(1, size))]
    return [np.concatenate([p[k] for p in parts]) for k in range(len(parts[0]))]


class _EngineExecutor:
    """Run an engine's math: on the GPU where it can run, else with the CPU reference executor."""

    def __init__(self, engine: Any, source: Any) -> None:
        from trtforge.tensorrt.runtime import unavailable_reason

        self.engine = engine
        self.source = source
        self.max_batch = max_batch(engine.metadata)
        self._executor: Any = None
        self._input_names: list[str] = []
        self.gpu_reason = unavailable_reason(engine.metadata)
        self.label = "gpu" if self.gpu_reason is None else "cpu reference executor"

    def run(self, batch: list[Any]) -> list[Any]:
        if self.gpu_reason is None:
            outputs = self.engine.run(batch)
            return [outputs[o["name"]] for o in self.engine.outputs]
        if self._executor is None:
            from trtforge.verify.checking import resolve_snapshot
            from trtforge.reference import Executor

            snapshot, _ = resolve_snapshot(self.engine)
            self._input_names = [spec["name"] for spec in snapshot.inputs]
            self._executor = Executor(snapshot)
        result = self._executor.run(dict(zip(self._input_names, batch))).numpy()
        return list(result.values())


def numerics(expected: Sequence[Any], got: Sequence[Any], precision: str,
             reduced: Callable[[], Sequence[Any] | None] | None = None) -> dict[str, Any]:
    """Agreement of engine outputs with the source: ``trtforge.check``'s verdict at this
    precision, fp16/bf16 widened to the source's own error (``reduced()``: the source run in
    that precision) exactly as ``check`` does, so a row and ``check`` never disagree."""
    from trtforge.verify.checking import verdict

    if len(expected) != len(got):
        raise UsageError(f"{len(expected)} source outputs but {len(got)} engine outputs")
    notes: list[str] = []
    metrics = verdict(expected, got, precision, reduced=reduced, notes=notes)
    first = metrics[0]
    result = {
        "max_abs": max(m.max_abs for m in metrics),
        "max_rel": max(m.max_rel for m in metrics),
        "cosine": min(m.cosine for m in metrics),
        "top1": first.top1,
        "top5": first.top5,
        "passed": all(m.passed for m in metrics),
        "reasons": [r for m in metrics for r in m.reasons],
    }
    if notes:
        result["notes"] = notes
    return result


def max_batch(metadata: dict[str, Any]) -> int:
    """Largest batch (first dimension) the engine accepts, from its profiles or fixed shape."""
    best = 0
    for spec in metadata.get("profiles") or []:
        for profile in spec.get("profiles", []):
            best = max(best, int(profile["max"][0]) if profile["max"] else 0)
    if best:
        return best
    shapes = [i.get("shape") or [] for i in metadata.get("inputs") or []]
    fixed = [int(s[0]) for s in shapes if s and int(s[0]) > 0]
    return min(fixed) if fixed else EVAL_BATCH


class _SourceReference:
    """The source framework's outputs (the caller's ``reference`` or a native runner), made
    on first use and remembered per input set, so rows share one source run."""

    def __init__(self, source: Any, reference: Callable[..., Any] | None) -> None:
        self.source = source
        self.reference = reference
        self._run: Callable[[list[Any]], list[Any]] | None = None
        self._memo: dict[str, list[Any]] = {}
        self.note: str | None = None

    def _runner(self) -> Callable[[list[Any]], list[Any]]:
        if self.note is not None:
            raise _NotMeasured(self.note)
        if self._run is None:
            try:
                self._run = self._make()
            except _NotMeasured as exc:
                self.note = str(exc)
                raise
            except Exception as exc:
                self.note = f"n/a: the source model could not run ({_describe(exc)})"
                raise _NotMeasured(self.note) from exc
        return self._run

    def _make(self) -> Callable[[list[Any]], list[Any]]:
        from trtforge.report.benchmark import native_runners
        from trtforge.arrays import flatten_outputs

        if self.reference is not None:
            reference = self.reference
            return lambda batch: flatten_outputs(reference(*batch))
        runners, skipped = native_runners(self.source, torch_compile=False)
        if not runners:
            raise _NotMeasured(f"n/a: no way to run the source model ({'; '.join(skipped.values())})")
        return runners[0].run

    def reduced(self, precision: str, batch: list[Any]) -> Callable[[], list[Any] | None] | None:
        """The source run in ``precision`` on ``batch`` (torch sources; None elsewhere), for
        the verdict's native-precision widening."""
        if self.source.kind != "torch-module":
            return None

        def run() -> list[Any] | None:
            import numpy as np

            from trtforge.verify.checking import TorchRunner

            names = [f"input{i}" for i in range(len(batch))]
            feeds = {n: np.ascontiguousarray(to_numpy(b)) for n, b in zip(names, batch)}
            return TorchRunner(self.source.model).run_reduced(feeds, names, precision)

        return run

    def outputs(self, key: str, batch: list[Any]) -> list[Any]:
        if key not in self._memo:
            run = self._runner()
            self._memo[key] = _run_batched(run, batch[0]) if len(batch) == 1 else run(batch)
        return self._memo[key]


# --- the comparison ---------------------------------------------------------------------
def compare(
    model: Any,
    backends: Sequence[str] | str | None = None,
    precisions: Sequence[str] | str = DEFAULT_PRECISIONS,
    data: Any = None,
    target: str | None = None,
    *,
    inputs: Sequence[Any] | None = None,
    calibration: Any = None,
    reference: Callable[..., Any] | None = None,
    name: str | None = None,
    cache: Any = True,
    options: dict[str, Any] | None = None,
    baselines: bool = True,
    torch_compile: bool = False,
    batch_size: int = 1,
    gpu_iterations: int = 100,
    baseline_iterations: int = 20,
    on_engine: Callable[[Row, Any], None] | None = None,
) -> Report:
    """Convert ``model`` through each route x precision and measure every row.

    ``backends``: route names (list or comma-separated), or None for every installed route
    that accepts the model. ``data``: ``(x, y)`` labelled inputs for accuracy; also the INT8
    calibration data when ``calibration`` is not given. ``inputs``: as for ``convert``.
    ``reference(x)``: the source framework's forward pass (else a native runner is used).
    Errors in one row never stop the others; only bad arguments raise.
    ``on_engine(row, engine)`` is called once a built row is fully measured, so a caller
    (``optimize``) can keep the engine it wants without this function holding all of them.
    """
    from trtforge.conversion.api import _describe_failure, _resolve_cache, convert_with, make_spec
    from trtforge.plugin.backends import registry
    from trtforge.progress import Stages
    from trtforge.models.sources import detect
    from trtforge.tensorrt.trt import get_tensorrt

    precision_list = _split(precisions, "precision") or list(DEFAULT_PRECISIONS)
    labelled = LabelledData.of(data)
    base_spec = make_spec(precision="fp32", inputs=inputs, target=target, options=options)
    source = detect(model, base_spec.example_inputs)
    model_name = name or source.name
    tensorrt = get_tensorrt()
    resolved = tensorrt.resolve_target(base_spec.target)
    engine_cache = _resolve_cache(cache)
    for p in precision_list:
        make_spec(precision=p)  # unknown precision: a usage error before any work
    routes, report_rows = _select_routes(registry(), source, backends, precision_list, model_name)
    report = Report(environment=_environment(tensorrt, resolved))
    report.rows.extend(report_rows)
    batch = _example_batch(base_spec, source, labelled, batch_size)
    source_ref = _SourceReference(source, reference)
    progress = Stages(prefix="compare: ")

    for route in routes:
        for precision in precision_list:
            row = Row(model=model_name, route=route.name, precision=precision, status="ok")
            report.rows.append(row)
            spec = make_spec(
                precision=precision, inputs=inputs, target=resolved, options=options,
                calibration=calibration if calibration is not None else (
                    _calibration_from(labelled) if precision == "int8" else None),
            )
            started = time.perf_counter()
            try:
                with progress.stage(f"{route.name} {precision}", model_name):
                    engine = convert_with(route, source, spec, tensorrt, engine_cache)
            except Exception as exc:  # a failing route never stops the comparison
                row.status = "failed"
                # The first line: framework errors append whole graph dumps after it.
                row.reason = _describe_failure(exc).split(" [unsupported:")[0].strip().splitlines()[0]
                row.unsupported = list(getattr(exc, "unsupported", []) or [])
                row.convert_seconds = round(time.perf_counter() - started, 4)
                log.info("%s %s %s failed: %s", model_name, route.name, precision, row.reason)
                continue
            _fill_engine_columns(row, engine, time.perf_counter() - started)
            if not batch:
                batch = _batch_from_engine(engine.metadata)
            executor = _EngineExecutor(engine, source)
            _fill_numerics(row, executor, batch, source_ref)
            _fill_accuracy(row, executor, labelled, source_ref)
            _fill_gpu(row, engine, executor, batch_size, gpu_iterations)
            if on_engine is not None:
                on_engine(row, engine)
    if source_ref.note:
        report.notes.append(f"{model_name}: no source outputs to compare with: "
                            f"{source_ref.note.removeprefix('n/a: ')}")
    if baselines:
        report.baselines.extend(_baselines(source, model_name, batch, labelled, torch_compile,
                                           baseline_iterations))
    return report


def _split(value: Sequence[str] | str | None, what: str = "list") -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    found = [i.strip() for i in items if i and i.strip()]
    if not found:
        from trtforge.errors import UsageError

        raise UsageError(f"the {what} list {value!r} names nothing",
                         hint=f"give comma-separated {what}s, or leave the option out for the default")
    return found


def _select_routes(reg: Any, source: Any, backends: Sequence[str] | str | None,
                   precisions: list[str], model_name: str) -> tuple[list[Any], list[Row]]:
    """Routes to run, plus 'skipped' rows for named routes that cannot take the model."""
    names = _split(backends, "backend")
    if not names or names == ["all"]:
        chosen, skipped = reg.candidates(source)
        for route, why in skipped.items():
            log.info("%s: route %s left out (%s)", model_name, route, why)
        return chosen, []
    routes, rows = [], []
    for route_name in names:
        backend = reg.get(route_name).backend  # an unknown name is a usage error
        availability = backend.is_available()
        why = None if availability else f"unavailable: {availability.reason}"
        if why is None and not backend.accepts(source):
            why = f"does not accept {source.kind} models"
        if why is None:
            routes.append(backend)
        else:
            rows += [Row(model=model_name, route=route_name, precision=p, status="skipped",
                         reason=why) for p in precisions]
    return routes, rows


def _environment(tensorrt: Any, target: Any) -> dict[str, Any]:
    from trtforge.tensorrt.gpu import probe_gpus

    gpus = probe_gpus()
    ok, why = tensorrt.can_run(gpus)
    return {
        "tensorrt": tensorrt.facts.label,
        "target": target.name if target is not None else "this GPU",
        "gpu": ", ".join(f"{g.name} ({g.sm})" for g in gpus.gpus) or "none",
        "can_run": ok,
        "gpu_unavailable": None if ok else why,
        "reference": "trtforge.check (CPU reference executor)",
    }


def _calibration_from(labelled: LabelledData | None) -> Any:
    if labelled is None:
        return None
    from trtforge.int8.calibration import Calibration

    return Calibration(data=labelled.x, batch_size=16, max_batches=8)


def _example_batch(spec: Any, source: Any, labelled: LabelledData | None, batch_size: int) -> list[Any]:
    """The inputs rows are checked and timed on: examples given, labelled data, seeded noise
    shaped by the input specs, or nothing yet (then the first engine's inputs decide)."""
    import numpy as np

    if spec.example_inputs:
        return [np.asarray(to_numpy(x)) for x in spec.example_inputs]
    if labelled is not None:
        return [labelled.x[:max(batch_size, 8)]]
    if source.example_inputs:
        return [np.asarray(to_numpy(x)) for x in source.example_inputs]
    wanted = []
    for s in spec.inputs:
        p = s.profiles[0]
        shape = p.opt
        if shape and p.min[0] != p.max[0]:
            shape = (min(4, p.max[0]), *shape[1:])  # a few rows, so top-1 means something
        wanted.append((shape, s.dtype))
    return _noise(wanted)


def _batch_from_engine(metadata: dict[str, Any]) -> list[Any]:
    """Seeded noise at the engine's input shapes (profile opt, a few rows when batch varies)."""
    profiles = {p.get("name"): p["profiles"][0] for p in metadata.get("profiles") or [] if p.get("profiles")}
    wanted = []
    for tensor in metadata.get("inputs") or []:
        p = profiles.get(tensor["name"])
        if p is not None:
            shape = tuple(p["opt"])
            if shape and p["min"][0] != p["max"][0]:
                shape = (min(4, p["max"][0]), *shape[1:])
        else:
            shape = tuple(1 if d < 0 else d for d in tensor["shape"])
        wanted.append((shape, tensor["dtype"]))
    return _noise(wanted)


def _noise(wanted: Sequence[tuple[Sequence[int], str]]) -> list[Any]:
    from trtforge.arrays import seeded_inputs

    return seeded_inputs(wanted, seed=0)


def split_stages(stages: dict[str, float]) -> dict[str, float]:
    """Stage times that add up: a route's own stages (export, passes, parse, calibrate, ...)
    run inside core's ``populate`` stage, so ``populate`` keeps only the time they leave."""
    inner = {k: float(v) for k, v in stages.items() if k not in ("populate", "build")}
    result = dict(inner)
    if "populate" in stages:
        rest = float(stages["populate"]) - sum(inner.values())
        result["populate" if not inner else "populate (rest)"] = round(max(rest, 0.0), 4)
    if "build" in stages:
        result["build"] = float(stages["build"])
    return result


def _fill_engine_columns(row: Row, engine: Any, seconds: float) -> None:
    meta = engine.metadata
    row.convert_seconds = round(seconds, 4)
    row.stages = split_stages(meta.get("build", {}).get("stages") or {})
    row.engine_bytes = len(engine.plan)
    row.layers = (meta.get("network") or {}).get("layers")
    row.target = meta.get("target")
    row.cache_hit = bool((meta.get("cache") or {}).get("hit"))


def _fill_numerics(row: Row, executor: _EngineExecutor, batch: list[Any],
                   source_ref: _SourceReference) -> None:
    try:
        expected = source_ref.outputs("example", batch)
        row.numerics = {**numerics(expected, executor.run(batch), row.precision,
                                   reduced=source_ref.reduced(row.precision, batch)),
                        "executor": executor.label}
    except _NotMeasured as exc:
        row.numerics_note = str(exc)
    except Exception as exc:
        row.numerics_note = f"n/a: {_describe(exc)}"


def _fill_accuracy(row: Row, executor: _EngineExecutor, labelled: LabelledData | None,
                   source_ref: _SourceReference) -> None:
    if labelled is None:
        return
    try:
        outputs = _run_batched(executor.run, labelled.x, min(EVAL_BATCH, executor.max_batch))
        row.accuracy = accuracy_of(outputs[0], labelled.y)
        source_logits = source_ref.outputs("labelled", [labelled.x])[0]
        row.accuracy_delta = row.accuracy - accuracy_of(source_logits, labelled.y)
    except _NotMeasured as exc:
        row.accuracy_note = row.accuracy_note or str(exc)
    except Exception as exc:
        row.accuracy_note = f"n/a: {_describe(exc)}"


def _fill_gpu(row: Row, engine: Any, executor: _EngineExecutor, batch_size: int,
              iterations: int) -> None:
    if executor.gpu_reason is not None:
        row.gpu_note = f"n/a: {executor.gpu_reason}"
        return
    try:
        row.gpu = engine.benchmark(batch_size=batch_size, iterations=iterations,
                                   warmup=max(1, iterations // 10))
    except Exception as exc:
        row.gpu_note = f"n/a: {_describe(exc)}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TrtforgeError):
        return exc.message
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _baselines(source: Any, model_name: str, batch: list[Any], labelled: LabelledData | None,
               torch_compile: bool, iterations: int) -> list[Baseline]:
    from trtforge.report.benchmark import native_runners, time_native

    if not batch:
        return [Baseline(model=model_name, framework=source.kind, device="cpu",
                         note="n/a: no input shapes known (pass inputs=, or a route must succeed)")]
    try:
        runners, skipped = native_runners(source, torch_compile=torch_compile)
    except Exception as exc:
        return [Baseline(model=model_name, framework=source.kind, device="cpu",
                         note=f"n/a: {_describe(exc)}")]
    result = []
    for runner in runners:
        entry = Baseline(model=model_name, framework=runner.framework, device=runner.device)
        try:
            timed = time_native(runner, batch, name=f"{runner.framework}_{model_name}",
                                iterations=iterations, warmup=max(1, iterations // 10))
            entry.stats = timed.to_dict()
            if labelled is not None:
                outputs = _run_batched(runner.run, labelled.x)
                entry.accuracy = accuracy_of(outputs[0], labelled.y)
        except Exception as exc:
            entry.note = f"n/a: {_describe(exc)}"
        result.append(entry)
    for framework, why in skipped.items():
        result.append(Baseline(model=model_name, framework=framework, device="cpu", note=f"n/a: {why}"))
    return result

