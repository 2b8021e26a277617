"""``trtforge.optimize``: every route x precision, the best engine within an accuracy budget.

Runs :func:`trtforge.compare`, discards every candidate that did not convert, failed
``trtforge.check``'s verdict (the precision's tolerance) or, given labelled data, loses more
top-1 points than ``max_drop``, and ranks the rest:

- by measured GPU throughput (median) or p99 latency at ``batch``, where engines run here;
- elsewhere (no GPU, build-only TensorRT) by a stated **proxy**: lower precision first
  (int8, then fp16/bf16, then fp32), then the smaller engine. The result says so; a proxy
  is not a measurement.

The winner is written with the comparison's report and ``optimize.{json,md}`` (why every
other candidate lost) beside it, as a trtforge engine or a Triton model repository, plus a
``reproduce.sh``. Candidates are judged as they are measured, so only the best engine so far
is kept in memory.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from trtforge.errors import NoCandidateError, UsageError

log = logging.getLogger(__name__)

OBJECTIVES = ("throughput", "latency")
FORMATS = ("trtforge", "triton")
DEFAULT_MAX_DROP = 0.5
PRECISION_RANK = {"int8": 0, "fp16": 1, "bf16": 1, "fp32": 2}
DECISION_JSON = "optimize.json"
DECISION_MD = "optimize.md"
PROXY_RULE = ("lower precision first (int8, then fp16/bf16, then fp32), then the smaller "
              "engine, then route name")


@dataclass
class Candidate:
    """One route x precision and what became of it."""

    route: str
    precision: str
    status: str  # "chosen", "lost" (passed, ranked lower) or "discarded"
    reason: str
    rank: int | None = None
    engine_bytes: int | None = None
    throughput: float | None = None  # median inferences/s at the requested batch
    latency_p99: float | None = None  # seconds
    accuracy_delta: float | None = None  # top-1 points vs the source on the labelled data


@dataclass
class OptimizeResult:
    report: Any  # trtforge.report.table.Report
    objective: str
    batch: int
    max_drop: float
    labelled: bool
    ranking: str  # how the passing candidates were ranked, in words
    proxy: bool
    candidates: list[Candidate] = field(default_factory=list)
    engine: Any = field(default=None, repr=False)  # the winner's Engine
    written: dict[str, Path] = field(default_factory=dict)

    @property
    def winner(self) -> Candidate | None:
        return next((c for c in self.candidates if c.status == "chosen"), None)

    def to_dict(self) -> dict[str, Any]:
        return {"objective": self.objective, "batch": self.batch, "max_drop": self.max_drop,
                "labelled_data": self.labelled, "ranking": self.ranking, "proxy": self.proxy,
                "winner": asdict(self.winner) if self.winner else None,
                "candidates": [asdict(c) for c in self.candidates],
                "written": {k: str(v) for k, v in self.written.items()}}

    def to_markdown(self) -> str:
        winner = self.winner
        budget = (f"at most {self.max_drop:g} top-1 points lost on the labelled data, and "
                  "trtforge.check's verdict" if self.labelled else
                  "trtforge.check's verdict at each precision's tolerance (no labelled data)")
        lines = ["# trtforge optimize", "",
                 f"- chosen: **{winner.route} {winner.precision}**" if winner else "- chosen: none",
                 f"- budget: {budget}", f"- ranking: {self.ranking}", "",
                 "| rank | route | precision | status | engine | GPU /s | p99 ms | Δ top-1 | why |",
                 "|---|---|---|---|---|---|---|---|---|"]
        for c in self.candidates:
            cells = [str(c.rank or ""), c.route, c.precision, c.status,
                     f"{c.engine_bytes / 1e6:.2f} MB" if c.engine_bytes is not None else "",
                     f"{c.throughput:.0f}" if c.throughput is not None else "",
                     f"{c.latency_p99 * 1e3:.3f}" if c.latency_p99 is not None else "",
                     f"{c.accuracy_delta:+.2f}" if c.accuracy_delta is not None else "", c.reason]
            lines.append("| " + " | ".join(x.replace("|", "\\|").replace("\n", " ") for x in cells) + " |")
        return "\n".join(lines) + "\n"


# --- judging ------------------------------------------------------------------------------
def _discard_reason(row: Any, labelled: bool, max_drop: float) -> str | None:
    if row.status == "skipped":
        return f"skipped: {row.reason}"
    if row.status != "ok":
        return f"conversion failed: {row.reason}"
    if not row.numerics:
        return f"not checked ({(row.numerics_note or 'no source outputs').removeprefix('n/a: ')})"
    if not row.numerics.get("passed"):
        reasons = "; ".join(row.numerics.get("reasons") or []) or "outside the tolerance"
        return f"failed the check at {row.precision} tolerance: {reasons}"
    if labelled:
        if row.accuracy_delta is None:
            return f"accuracy not measured ({(row.accuracy_note or '?').removeprefix('n/a: ')})"
        drop = -row.accuracy_delta * 100
        if drop > max_drop + 1e-9:
            return f"over budget: loses {drop:.2f} top-1 points (budget {max_drop:g})"
    return None


def _measure(row: Any, objective: str) -> float | None:
    gpu = row.gpu or {}
    value = gpu.get("fps_median" if objective == "throughput" else "latency_p99")
    return float(value) if value is not None else None


def _key(row: Any, objective: str) -> tuple[Any, ...]:
    """Smaller is better: measured rows first (by the objective), then the proxy."""
    proxy = (PRECISION_RANK.get(row.precision, 3), row.engine_bytes or 0, row.route, row.precision)
    value = _measure(row, objective)
    if value is None:
        return (1, 0.0, *proxy)
    return (0, -value if objective == "throughput" else value, *proxy)


def _loss_reason(row: Any, best: Any, objective: str, gpu_note: str | None) -> str:
    mine, theirs = _measure(row, objective), _measure(best, objective)
    if theirs is not None and mine is None:
        return f"not timed on the GPU ({(row.gpu_note or gpu_note or '?').removeprefix('n/a: ')})"
    if mine is not None and theirs is not None and mine != theirs:
        if objective == "throughput":
            return f"slower: {mine:.0f}/s vs {theirs:.0f}/s at the chosen engine"
        return f"higher p99 latency: {mine * 1e3:.3f} ms vs {theirs * 1e3:.3f} ms"
    if PRECISION_RANK.get(row.precision, 3) > PRECISION_RANK.get(best.precision, 3):
        return f"proxy: higher precision than the chosen {best.precision}"
    if (row.engine_bytes or 0) > (best.engine_bytes or 0):
        return f"proxy: bigger engine ({row.engine_bytes:,} vs {best.engine_bytes:,} bytes)"
    return "tie on the proxy (same precision and engine size): route name order"


def rank(report: Any, *, objective: str = "throughput", max_drop: float = DEFAULT_MAX_DROP,
         labelled: bool = False, batch: int = 1) -> tuple[list[Candidate], str, bool]:
    """Candidates for every row of ``report`` (best first), the ranking in words, and whether
    it is the proxy. Pure: the same report always gives the same decision."""
    passing, discarded = [], []
    for row in report.rows:
        why = _discard_reason(row, labelled, max_drop)
        (discarded if why else passing).append((row, why))
    passing.sort(key=lambda item: _key(item[0], objective))
    measured = [row for row, _ in passing if _measure(row, objective) is not None]
    gpu_note = report.gpu_note
    if measured:
        what = "median throughput" if objective == "throughput" else "p99 latency"
        ranking = (f"measured GPU {what} at batch {batch} on {report.environment.get('gpu', 'this GPU')}"
                   + ("; candidates that could not be timed rank after every timed one"
                      if len(measured) < len(passing) else ""))
        proxy = False
    else:
        why = (gpu_note or "no candidate could be timed on a GPU").removeprefix("n/a: ")
        ranking = f"proxy, not measured speed ({why}): {PROXY_RULE}"
        proxy = True
    candidates = []
    for index, (row, _) in enumerate(passing, start=1):
        reason = ("best passing candidate by " + ("the proxy" if proxy else "measurement")
                  if index == 1 else _loss_reason(row, passing[0][0], objective, gpu_note))
        candidates.append(_candidate(row, "chosen" if index == 1 else "lost", reason, index, objective))
    candidates += [_candidate(row, "discarded", why or "", None, objective) for row, why in discarded]
    return candidates, ranking, proxy


def _candidate(row: Any, status: str, reason: str, index: int | None, objective: str) -> Candidate:
    gpu = row.gpu or {}
    return Candidate(route=row.route, precision=row.precision, status=status, reason=reason,
                     rank=index, engine_bytes=row.engine_bytes, throughput=gpu.get("fps_median"),
                     latency_p99=gpu.get("latency_p99"),
                     accuracy_delta=None if row.accuracy_delta is None
                     else round(row.accuracy_delta * 100, 4))


# --- the entry point ----------------------------------------------------------------------
def optimize(
    model: Any,
    backends: Sequence[str] | str | None = None,
    precisions: Sequence[str] | str = ("fp32", "fp16", "int8"),
    *,
    max_drop: float = DEFAULT_MAX_DROP,
    objective: str = "throughput",
    batch: int = 1,
    data: Any = None,
    out: str | os.PathLike[str] | None = None,
    format: str = "trtforge",
    target: str | None = None,
    inputs: Sequence[Any] | None = None,
    calibration: Any = None,
    reference: Callable[..., Any] | None = None,
    name: str | None = None,
    cache: Any = True,
    iterations: int = 100,
    triton: dict[str, Any] | None = None,
    force: bool = False,
    command: Sequence[str] | None = None,
) -> OptimizeResult:
    """Compare, filter by the budget, rank, and write the winner into ``out`` (if given).

    ``max_drop``: top-1 points the engine may lose on ``data`` (``(x, y)``, also INT8
    calibration data). ``format``: ``trtforge`` (engine + sidecar + snapshot) or ``triton``
    (``out`` becomes a model repository; ``triton`` takes ``max_batch``, ``instances``,
    ``dynamic_batching``, ``name``: the model's folder). ``force``: replace a Triton model
    folder trtforge did not write.
    ``command``: the trtforge arguments for ``reproduce.sh`` (the CLI passes its own).
    Raises :class:`~trtforge.errors.NoCandidateError` (after writing the report) when no
    candidate passes.
    """
    from trtforge.report.comparison import compare, default_target
    from trtforge.report.comparison import LabelledData

    _validate(objective, format, max_drop, batch, iterations)
    triton = dict(triton or {})
    unknown = set(triton) - {"name", "max_batch", "instances", "dynamic_batching"}
    if unknown:
        raise UsageError(f"unknown Triton option(s) {', '.join(sorted(unknown))}",
                         hint="use name, max_batch, instances, dynamic_batching")
    if triton.get("name") is not None or format == "triton":
        from trtforge.export.triton import check_model_name, check_options

        if triton.get("name") is not None:
            check_model_name(triton["name"])
        check_options(triton.get("max_batch"), triton.get("instances", 1),
                      bool(triton.get("dynamic_batching")))
    root = _out_root(out, [model])
    labelled = LabelledData.of(data)
    best: dict[str, Any] = {}

    def keep(row: Any, engine: Any) -> None:  # only the best passing engine stays in memory
        if _discard_reason(row, labelled is not None, max_drop) is None and (
                not best or _key(row, objective) < _key(best["row"], objective)):
            best.update(row=row, engine=engine)

    report = compare(model, backends=backends, precisions=precisions, data=labelled,
                     target=default_target(target), inputs=inputs, calibration=calibration,
                     reference=reference, name=name, cache=cache, baselines=False,
                     batch_size=batch, gpu_iterations=iterations, on_engine=keep)
    report.title = "trtforge optimize: the comparison behind the choice"
    candidates, ranking, proxy = rank(report, objective=objective, max_drop=max_drop,
                                      labelled=labelled is not None, batch=batch)
    result = OptimizeResult(report=report, objective=objective, batch=batch, max_drop=max_drop,
                            labelled=labelled is not None, ranking=ranking, proxy=proxy,
                            candidates=candidates, engine=best.get("engine"))
    winner = result.winner
    if winner is not None:
        report.notes.append(f"optimize chose {winner.route} {winner.precision}; ranking: {ranking}")
        log.info("optimize: chose %s %s (%s)", winner.route, winner.precision, ranking)
    model_name = report.rows[0].model if report.rows else (name or "model")
    if root is not None:
        argv = list(command) if command is not None else None
        _write(result, root, format, model_name, triton, force, argv, model, inputs,
               labelled is not None, calibration, reference, target)
    if winner is None:
        raise NoCandidateError(
            f"no engine of {model_name} converted, passed the check and kept within the budget",
            result=result,
            hint=("see optimize.md in the output folder for each candidate's reason" if root else
                  "each candidate's reason is in the result; --out writes them to optimize.md")
                 + "; a larger --max-drop or other --precisions may admit one")
    return result


def _validate(objective: str, format: str, max_drop: float, batch: int, iterations: int) -> None:
    if objective not in OBJECTIVES:
        raise UsageError(f"unknown objective {objective!r}", hint=f"use one of {', '.join(OBJECTIVES)}")
    if format not in FORMATS:
        raise UsageError(f"unknown output format {format!r}", hint=f"use one of {', '.join(FORMATS)}")
    try:
        drop = float(max_drop)
    except (TypeError, ValueError):
        drop = float("nan")
    if not drop >= 0 or drop == float("inf"):
        raise UsageError(f"--max-drop {max_drop!r} must be a finite number of points >= 0",
                         hint="e.g. --max-drop 0.5 (half a top-1 point)")
    for what, value in (("--batch", batch), ("--iterations", iterations)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UsageError(f"{what} {value!r} must be 1 or more", hint=f"e.g. {what} 1")


def _out_root(out: Any, sources: Sequence[Any]) -> Path | None:
    if out is None:
        return None
    from trtforge.guard import refuse_output_over_sources

    text = os.fspath(out)
    if not str(text).strip():
        raise UsageError("--out is empty", hint="give a folder, e.g. --out optimized/")
    root = Path(text).expanduser()
    if root.exists() and not root.is_dir():
        raise UsageError(f"--out {root} is a file, not a folder", hint="give a folder")
    refuse_output_over_sources(root, list(sources), what="--out")
    return root


def _write(result: OptimizeResult, root: Path, format: str, model_name: str,
           triton: dict[str, Any], force: bool, command: list[str] | None, model: Any,
           inputs: Any, labelled: bool, calibration: Any, reference: Any, target: Any) -> None:
    from trtforge.atomic import atomic_write_text, file_mode
    from trtforge.export.triton import config_for, default_name, export_triton
    from trtforge.report.reproduce import SCRIPT_NAME, script

    engine = result.engine
    stem = default_name(model_name)
    triton_name = triton.pop("name", None) or stem
    if engine is not None and format == "triton":  # a refusal before anything is written
        config_for(engine.metadata, name=triton_name, **triton)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create --out {root}: {exc.strerror or exc}",
                         hint="choose a folder you can write to") from None
    root = root.resolve()
    argv, placeholders, notes = _command(command, model, result, root, format, triton_name,
                                         triton, force, inputs, labelled, calibration, reference, target)
    written: dict[str, Path] = {}
    if engine is not None and format == "triton":
        replace = force or _written_by_trtforge(root / triton_name)
        written["triton_model"] = export_triton(
            engine, root, name=triton_name, replace=replace, command=argv,
            extra_notes=[f"chosen by trtforge optimize: {result.ranking}"], **triton)
    elif engine is not None:
        written["engine"] = engine.save(root / f"{stem}.engine", snapshot=_has_snapshot(engine))
    written.update(result.report.write(root))
    written["decision_json"] = atomic_write_text(root / DECISION_JSON, json.dumps(
        {**result.to_dict(), "written": {k: str(v) for k, v in written.items()}},
        indent=2, sort_keys=True, default=str) + "\n")
    written["decision_md"] = atomic_write_text(root / DECISION_MD, result.to_markdown())
    metadata = engine.metadata if engine is not None else _environment_metadata(result)
    reproduce = atomic_write_text(root / SCRIPT_NAME, script([argv], metadata,
                                                             placeholders=placeholders, notes=notes))
    os.chmod(reproduce, file_mode() | ((file_mode() & 0o444) >> 2))
    written["reproduce"] = reproduce
    result.written = written


def _has_snapshot(engine: Any) -> bool:
    from trtforge.verify.snapshot import engine_snapshot

    return engine_snapshot(engine) is not None


def _written_by_trtforge(folder: Path) -> bool:
    """A model folder an earlier optimize/export wrote (replaced without --force)."""
    config = folder / "config.pbtxt"
    try:
        with open(config, encoding="utf-8") as handle:
            return handle.readline().startswith("# Written by trtforge")
    except OSError:
        return False


def _environment_metadata(result: OptimizeResult) -> dict[str, Any]:
    from trtforge.tensorrt.trt import tensorrt_identity

    return {"tensorrt": tensorrt_identity() or {}, "target": result.report.environment.get("target")}


def _command(command: list[str] | None, model: Any, result: OptimizeResult, root: Path,
             format: str, triton_name: str, triton: dict[str, Any], force: bool, inputs: Any,
             labelled: bool, calibration: Any, reference: Any,
             target: Any) -> tuple[list[str], dict[str, str], list[str]]:
    """The ``trtforge optimize`` arguments behind this result, with placeholders for what was
    a Python object rather than a file."""
    placeholders: dict[str, str] = {}
    notes: list[str] = []
    if command is not None:
        return command, placeholders, notes
    if isinstance(model, (str, os.PathLike)):
        text = os.fspath(model)
        model_arg = os.path.abspath(text) if os.path.exists(text) else text
    else:
        model_arg = "${MODEL}"
        kind = result.report.rows[0].model if result.report.rows else type(model).__name__
        placeholders["MODEL"] = (f"set MODEL to a file holding the model {kind} "
                                 "(model.py defining it, or an ONNX/Keras/SavedModel file)")
    routes = sorted({r.route for r in result.report.rows})
    argv = ["optimize", model_arg, "--backends", ",".join(routes),
            "--precisions", ",".join(dict.fromkeys(r.precision for r in result.report.rows)),
            "--max-drop", f"{result.max_drop:g}", "--objective", result.objective,
            "--batch", str(result.batch), "--out", str(root), "--format", format]
    if result.report.environment.get("target") not in (None, "this GPU"):
        argv += ["--target", str(result.report.environment["target"])]
    if inputs:
        profiles = (result.engine.metadata.get("profiles") if result.engine is not None else None) or []
        for spec in profiles:
            shapes = ";".join(",".join("x".join(str(d) for d in p[k]) for k in ("min", "opt", "max"))
                              for p in spec["profiles"])
            argv += ["--input", f"{spec['name']}:{spec['dtype']}:{shapes}"]
    if labelled:
        argv += ["--data", "${DATA}"]
        placeholders["DATA"] = "set DATA to an .npz file with arrays x (inputs) and y (labels)"
    if calibration is not None:
        argv += ["--calibration", "${CALIBRATION}"]
        placeholders["CALIBRATION"] = "set CALIBRATION to a .npy array of calibration inputs"
    if reference is not None:
        notes.append("optimize() was given a reference function; the command line runs the "
                     "model's own framework instead")
    if format == "triton":
        argv += ["--name", triton_name]
        if triton.get("max_batch") is not None:
            argv += ["--max-batch", str(triton["max_batch"])]
        if triton.get("instances", 1) != 1:
            argv += ["--instances", str(triton["instances"])]
        if triton.get("dynamic_batching"):
            argv.append("--dynamic-batching")
    if force:
        argv.append("--force")
    return argv, placeholders, notes
