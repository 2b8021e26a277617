"""Timing harness and statistics shared by engines (GPU) and native baselines (CPU or GPU).

The statistics and the log format are those of the TF-TRT sample script the seed documents use
(``log.txt``: fps median/mean/uncertainty/jitter, latency median/mean/99th_p/99th_uncertainty),
so numbers from trtforge and from that script can be compared side by side; min and max are
added on one extra line. A timing is the wall time of one step of ``batch_size`` examples.

Definitions (``timings`` t_1..t_n in seconds, per-step throughput s_i = batch_size / t_i):

- ``fps_median``, ``fps_mean``: median and mean of s_i (mean of rates, as the seed script).
- ``fps_uncertainty``: standard error of the mean of s_i, ``std(s, ddof=1) / sqrt(n)``.
- ``fps_jitter``: scaled median absolute deviation of s_i,
  ``1.4826 * median(|s_i - median(s)|)``; 1.4826 makes it estimate the standard deviation of
  normally distributed rates while ignoring outliers.
- ``latency_median``, ``latency_mean``: of t_i.
- ``latency_p99``: 99th percentile of t_i (numpy's default linear interpolation).
- ``latency_p99_uncertainty``: ``|p99(t_1, t_3, t_5, ...) - p99(t_2, t_4, t_6, ...)|``, the
  disagreement between the 99th percentiles of the even and odd halves of the run.
- ``latency_min``/``latency_max`` and ``fps_min``/``fps_max``: extremes.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from trtforge.arrays import flatten_outputs
from trtforge.arrays import to_numpy as _to_numpy
from trtforge.atomic import atomic_write_text
from trtforge.errors import UsageError

log = logging.getLogger(__name__)

JITTER_SCALE = 1.4826
MIN_STEPS = 2


def summarize(timings: Sequence[float], batch_size: int) -> dict[str, float | int]:
    """Statistics of per-step wall times (seconds) for steps of ``batch_size`` examples."""
    import numpy as np

    if batch_size < 1:
        raise UsageError(f"batch size must be at least 1, got {batch_size}")
    times = np.asarray(list(timings), dtype=np.float64)
    if times.size < MIN_STEPS:
        raise UsageError(f"need at least {MIN_STEPS} timed steps for statistics, got {times.size}",
                         hint="raise --iterations")
    if not np.all(np.isfinite(times)) or np.any(times <= 0):
        raise UsageError("timings must be positive, finite numbers of seconds")
    speeds = batch_size / times
    speed_median = float(np.median(speeds))
    return {
        "batch_size": int(batch_size),
        "steps": int(times.size),
        "fps_median": speed_median,
        "fps_mean": float(np.mean(speeds)),
        "fps_uncertainty": float(np.std(speeds, ddof=1) / math.sqrt(times.size)),
        "fps_jitter": float(JITTER_SCALE * np.median(np.abs(speeds - speed_median))),
        "fps_min": float(np.min(speeds)),
        "fps_max": float(np.max(speeds)),
        "latency_median": float(np.median(times)),
        "latency_mean": float(np.mean(times)),
        "latency_p99": float(np.percentile(times, 99)),
        "latency_p99_uncertainty": float(
            abs(np.percentile(times[0::2], 99) - np.percentile(times[1::2], 99))),
        "latency_min": float(np.min(times)),
        "latency_max": float(np.max(times)),
    }


@dataclass
class BenchmarkResult:
    """One timed run: what ran, where (``device`` is ``"gpu"`` or ``"cpu"``), and its statistics."""

    name: str
    device: str
    batch_size: int
    warmup: int
    timings: list[float]
    timer: str
    stats: dict[str, float | int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.stats:
            self.stats = summarize(self.timings, self.batch_size)

    @property
    def label(self) -> str:
        return f"{self.name} [{self.device}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "device": self.device,
            "batch_size": self.batch_size,
            "warmup": self.warmup,
            "timer": self.timer,
            **{k: v for k, v in self.stats.items() if k != "batch_size"},
            "details": dict(self.details),
        }

    def log_text(self) -> str:
        """The entry in the seed script's ``log.txt`` format, plus a min/max line."""
        s = self.stats
        return (
            "\n==========================\n"
            f"network: {self.label},\t batchsize {self.batch_size}, steps {s['steps']}\n"
            f"  fps \tmedian: {s['fps_median']:.1f}, \tmean: {s['fps_mean']:.1f}, "
            f"\tuncertainty: {s['fps_uncertainty']:.1f}, \tjitter: {s['fps_jitter']:.1f}\n"
            f"  latency \tmedian: {s['latency_median']:.5f}, \tmean: {s['latency_mean']:.5f}, "
            f"\t99th_p: {s['latency_p99']:.5f}, \t99th_uncertainty: {s['latency_p99_uncertainty']:.5f}\n"
            f"  range \tlatency min: {s['latency_min']:.5f}, \tlatency max: {s['latency_max']:.5f}, "
            f"\tfps min: {s['fps_min']:.1f}, \tfps max: {s['fps_max']:.1f}\n"
        )

    def append_to_log(self, path: str | Path) -> Path:
        """Append this entry to ``path`` (rewritten atomically, so readers never see half)."""
        path = Path(path).expanduser()
        existing = path.read_text(encoding="utf-8") if path.is_file() else ""
        atomic_write_text(path, existing + self.log_text())
        return path


def _check_counts(iterations: int, warmup: int) -> None:
    if iterations < MIN_STEPS:
        raise UsageError(f"iterations must be at least {MIN_STEPS}, got {iterations}")
    if warmup < 0:
        raise UsageError(f"warmup must not be negative, got {warmup}")


def time_host(
    step: Callable[[], Any],
    *,
    name: str,
    batch_size: int,
    iterations: int = 100,
    warmup: int = 10,
    device: str = "cpu",
    sync: Callable[[], Any] | None = None,
    details: dict[str, Any] | None = None,
) -> BenchmarkResult:
    """Time ``step()`` with the host clock (``time.perf_counter``).

    For CPU work this is the true latency. ``sync`` (e.g. ``torch.cuda.synchronize``) is called
    after each step so asynchronous GPU work is included when a GPU baseline is timed this way.
    """
    _check_counts(iterations, warmup)
    for _ in range(warmup):
        step()
        if sync is not None:
            sync()
    timings = []
    for _ in range(iterations):
        start = time.perf_counter()
        step()
        if sync is not None:
            sync()
        timings.append(time.perf_counter() - start)
    return BenchmarkResult(name=name, device=device, batch_size=batch_size, warmup=warmup,
                           timings=timings, timer="time.perf_counter", details=dict(details or {}))


def time_cuda(
    step: Callable[[], Any],
    *,
    name: str,
    batch_size: int,
    stream: Any,
    iterations: int = 100,
    warmup: int = 10,
    details: dict[str, Any] | None = None,
) -> BenchmarkResult:
    """Time ``step()`` (which enqueues work on the torch CUDA ``stream``) with CUDA events.

    Events are recorded on the stream around each step, so the measured time is the GPU time
    between them, free of Python overhead that overlaps with GPU work.
    """
    import torch

    _check_counts(iterations, warmup)
    with torch.cuda.stream(stream):
        for _ in range(warmup):
            step()
        stream.synchronize()
        pairs = []
        for _ in range(iterations):
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record(stream)
            step()
            end.record(stream)
            pairs.append((start, end))
        stream.synchronize()
    timings = [start.elapsed_time(end) / 1000.0 for start, end in pairs]
    return BenchmarkResult(name=name, device="gpu", batch_size=batch_size, warmup=warmup,
                           timings=timings, timer="cuda events", details=dict(details or {}))


# --- native baselines ---------------------------------------------------------------------
@dataclass
class NativeRunner:
    """A way to run the source model in its own framework: ``run(batch) -> numpy outputs``."""

    framework: str
    device: str
    run: Callable[[Any], Any]
    sync: Callable[[], Any] | None = None


def native_runners(source: Any, *, torch_compile: bool = True) -> tuple[list[NativeRunner], dict[str, str]]:
    """Runners for a model source in its own framework, plus why others were left out.

    ONNX models run in onnxruntime; torch modules eager (and ``torch.compile`` when it works);
    Keras models and TF SavedModels / frozen graphs in TensorFlow; ONNX routes' prepared models
    are not baselines (they are trtforge's own intermediate).
    """
    kind = source.kind
    skipped: dict[str, str] = {}
    runners: list[NativeRunner] = []
    if kind in ("onnx-file", "onnx-model"):
        runners.append(_onnxruntime_runner(source))
    elif kind == "torch-module":
        runners.append(_torch_runner(source.model, compiled=False))
        if torch_compile:
            try:
                runners.append(_torch_runner(source.model, compiled=True))
            except Exception as exc:  # torch.compile needs a C++ compiler and may refuse a model
                skipped["torch.compile"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    elif kind in ("keras-model", "keras-file"):
        runners.append(_keras_runner(source))
    elif kind == "tf-savedmodel":
        runners.append(_savedmodel_runner(source))
    elif kind in ("tf-frozen-graph", "tf-graphdef"):
        runners.append(_graphdef_runner(source))
    else:
        skipped[kind] = "no native framework runner for this kind of model"
    return runners, skipped




def _onnxruntime_runner(source: Any) -> NativeRunner:
    import onnxruntime as ort

    from trtforge.models.compat import ort_session

    model = source.model
    if isinstance(model, Path):
        import onnx

        model = onnx.load(str(model))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort_session(model, options)
    names = [i.name for i in session.get_inputs()]

    def run(batch: Sequence[Any]) -> list[Any]:
        return list(session.run(None, {n: _to_numpy(b) for n, b in zip(names, batch)}))

    return NativeRunner("onnxruntime", "cpu", run)


def _torch_runner(module: Any, *, compiled: bool) -> NativeRunner:
    import torch

    device = "cpu"
    for parameter in module.parameters():
        device = parameter.device.type
        break
    module = module.eval()
    target = torch.compile(module) if compiled else module

    def run(batch: Sequence[Any]) -> list[Any]:
        tensors = [b if isinstance(b, torch.Tensor) else torch.from_numpy(_to_numpy(b)) for b in batch]
        with torch.inference_mode():
            return flatten_outputs(target(*[t.to(device) for t in tensors]))

    sync = torch.cuda.synchronize if device == "cuda" else None
    runner = NativeRunner("torch.compile" if compiled else "pytorch eager",
                          "gpu" if device == "cuda" else "cpu", run, sync)
    return runner


def _keras_runner(source: Any) -> NativeRunner:
    import keras

    model = source.model
    if isinstance(model, Path):
        model = keras.models.load_model(model, compile=False)

    def run(batch: Sequence[Any]) -> list[Any]:
        inputs = [_to_numpy(b) for b in batch]
        return flatten_outputs(model(inputs[0] if len(inputs) == 1 else inputs, training=False))

    return NativeRunner("keras", _tf_device(), run)


def _savedmodel_runner(source: Any) -> NativeRunner:
    import tensorflow as tf

    # The closure holds ``loaded``: a signature outlived by its object loses its variables.
    loaded = tf.saved_model.load(str(source.model))
    from trtforge.models.tf_sources import savedmodel_input_names

    names = savedmodel_input_names(loaded.signatures["serving_default"])  # check's order

    def run(batch: Sequence[Any]) -> list[Any]:
        feed = {n: tf.constant(_to_numpy(b)) for n, b in zip(names, batch)}
        result = loaded.signatures["serving_default"](**feed)
        return [_to_numpy(result[k]) for k in sorted(result)]

    return NativeRunner("tensorflow", _tf_device(), run)


def _graphdef_runner(source: Any) -> NativeRunner:
    import tensorflow as tf

    from trtforge.models.tf_graphs import detect_graph_io, read_graphdef

    graph_def = source.model
    if isinstance(graph_def, Path):
        graph_def = read_graphdef(graph_def, tf)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    inputs, outputs = detect_graph_io(graph_def)  # the inputs and outputs the routes convert
    if not inputs or not outputs:
        raise UsageError(f"frozen graph {source.name} has no placeholder inputs or no outputs")
    session = tf.compat.v1.Session(graph=graph)  # TF1's own way to run it, as seed 002 timed it

    def run(batch: Sequence[Any]) -> list[Any]:
        return list(session.run(outputs, {t: _to_numpy(b) for t, b in zip(inputs, batch)}))

    return NativeRunner("tensorflow (frozen graph)", _tf_device(), run)


def _tf_device() -> str:
    import tensorflow as tf

    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


def time_native(runner: NativeRunner, batch: Sequence[Any], *, name: str, iterations: int = 20,
                warmup: int = 3) -> BenchmarkResult:
    """Time one native runner on one batch with the host clock, labelled with its device."""
    batch_size = int(getattr(batch[0], "shape", (1,))[0]) if batch else 1
    return time_host(lambda: runner.run(batch), name=name, batch_size=batch_size,
                     iterations=iterations, warmup=warmup, device=runner.device, sync=runner.sync,
                     details={"framework": runner.framework})


def bench_native(model: Any, *, inputs: Sequence[Any] = (), batch_size: int = 1, iterations: int = 100,
                 warmup: int = 10, log: str | Path | None = None) -> list[dict[str, Any]]:
    """Time ``model`` in its own framework (seed 002's ``--native``): one result per native
    runner, appended to ``log`` in the same log.txt format as the engines' entries."""
    from trtforge.models.sources import detect

    source = detect(model)
    runners, skipped = native_runners(source, torch_compile=False)
    if not runners:
        raise UsageError(f"no native framework can run {source.name} here: "
                         + "; ".join(f"{k}: {v}" for k, v in skipped.items()),
                         hint="--native runs TensorFlow/Keras, PyTorch and ONNX models")
    batch = native_batch(source, inputs, batch_size)
    results = []
    for runner in runners:
        timed = time_native(runner, batch, name=f"native_{source.name}", iterations=iterations,
                            warmup=warmup)
        if log:
            timed.append_to_log(log)
        results.append(timed.to_dict())
    return results


def native_batch(source: Any, inputs: Sequence[Any], batch_size: int) -> list[Any]:
    """Seeded inputs for a native run, in the model's input order: shapes from ``inputs``
    (InputSpecs or their NAME[:DTYPE]:SHAPE text; opt shape) or, where the model fixes every
    dim but the batch, from the model; the batch dim is ``batch_size``."""
    from trtforge.arrays import seeded_inputs
    from trtforge.conversion.specs import InputSpec

    if batch_size < 1:
        raise UsageError(f"batch size must be at least 1, got {batch_size}")
    if inputs:
        specs = [s if isinstance(s, InputSpec) else InputSpec.parse(str(s)) for s in inputs]
        return seeded_inputs([((batch_size, *s.profiles[0].opt[1:]), s.dtype) for s in specs], 0)
    wanted = []
    for name, shape, dtype in _declared_inputs(source):
        rest = list(shape[1:])
        if not shape or any(d is None or d < 0 for d in rest):
            raise UsageError(f"input {name!r} of {source.name} has the shape {list(shape)}: only the "
                             "batch may be left open for --native",
                             hint=f"give --input {name}:{dtype}:" + "x".join(
                                 str(d) if d is not None and d >= 0 else "D" for d in shape)
                             + " with every D the size to time (the batch comes from --batch-size)")
        wanted.append(((batch_size, *rest), dtype))
    return seeded_inputs(wanted, 0)


def _declared_inputs(source: Any) -> list[tuple[str, tuple[Any, ...], str]]:
    """(name, shape with None for open dims, dtype) of each model input, in the runner's order."""
    kind = source.kind
    if kind in ("onnx-file", "onnx-model"):
        import onnx

        model = onnx.load(str(source.model)) if isinstance(source.model, Path) else source.model
        initializers = {i.name for i in model.graph.initializer}
        found = []
        for value in model.graph.input:
            if value.name in initializers:
                continue
            dims = tuple(d.dim_value if d.HasField("dim_value") else None
                         for d in value.type.tensor_type.shape.dim)
            dtype = onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type).name
            found.append((value.name, dims, dtype))
        return found
    if kind in ("keras-model", "keras-file", "tf-savedmodel", "tf-frozen-graph", "tf-graphdef"):
        from trtforge.models.tf_graphs import frozen_graph

        specs = list(frozen_graph(source, grappler=False).input_specs)
        if kind == "tf-savedmodel":  # its runner feeds the signature's inputs by sorted name
            specs.sort(key=lambda s: s.name)
        return [(s.name, tuple(s.shape), s.dtype) for s in specs]
    raise UsageError(f"{source.name} ({kind}) declares no input shapes",
                     hint="give --input NAME:DTYPE:SHAPE for each input, in the model's order")
