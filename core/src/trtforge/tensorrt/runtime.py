"""Run trtforge engines on a GPU: ``engine(x)``, ``engine.run(inputs)``, ``engine.benchmark()``.

Written to the TensorRT 8.5+/10/11 and TensorRT-RTX execution API: one ``ICudaEngine`` and one
``IExecutionContext`` per runner, tensors bound by name with ``set_tensor_address`` and
``set_input_shape``, inference enqueued with ``execute_async_v3`` on a private CUDA stream, the
optimization profile picked from the input shapes (``set_optimization_profile_async``).
Device memory comes from PyTorch's CUDA allocator: one buffer per I/O tensor, allocated on
first use and reused (grown only when a larger shape arrives).

CUDA graphs (``cuda_graph=True``, for fixed shapes): TensorRT-RTX captures natively through
``IRuntimeConfig.cuda_graph_strategy``; other TensorRT versions are captured here with
``torch.cuda.CUDAGraph`` after one ordinary launch per shape (TensorRT's documented requirement).

Where engines cannot run, :func:`runtime_blocker` gives the reason before anything touches the
GPU, and every entry point raises :class:`RuntimeUnavailableError` with it.
"""
from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from trtforge.errors import RuntimeUnavailableError, TensorRTError, UsageError
from trtforge.tensorrt.gpu import GpuProbe, probe_gpus

log = logging.getLogger(__name__)

Shape = tuple[int, ...]
_RUNNER_KEY = "runtime.runners"


# --- can this machine run this plan? ------------------------------------------------------
@dataclass(frozen=True)
class RuntimeFacts:
    """What decides whether plans can run here, as plain data (probed once, testable anywhere).

    ``load_error`` is set when TensorRT cannot be imported; ``has_runtime`` is False for a
    build-only flavor; ``can_run`` is the adapter's verdict for ``gpus``; ``torch_cuda`` is
    ``(usable, why)`` for PyTorch's CUDA support, which provides device memory and streams.
    """

    gpus: GpuProbe
    label: str = ""
    flavor: str = ""
    version: str = ""
    load_error: str | None = None
    has_runtime: bool = True
    can_run: tuple[bool, str] = (False, "")
    torch_cuda: tuple[bool, str] = (False, "")

    @classmethod
    def probe(cls, gpus: GpuProbe | None = None) -> "RuntimeFacts":
        from trtforge.tensorrt.trt import get_tensorrt

        gpus = gpus if gpus is not None else probe_gpus()
        try:
            tensorrt = get_tensorrt()
        except TensorRTError as exc:
            return cls(gpus=gpus, load_error=exc.message)
        can_run = tensorrt.can_run(gpus)
        return cls(
            gpus=gpus, label=tensorrt.facts.label, flavor=tensorrt.flavor, version=tensorrt.version,
            has_runtime=hasattr(tensorrt.module, "Runtime"), can_run=can_run,
            # Only look at torch when everything else allows running (importing it is slow).
            torch_cuda=_torch_cuda() if can_run[0] else (False, "not probed"),
        )


def runtime_blocker(metadata: Mapping[str, Any], facts: RuntimeFacts) -> tuple[str, str] | None:
    """Why the plan described by ``metadata`` cannot run here, as ``(reason, hint)``, or None."""
    if facts.load_error is not None:
        return (f"TensorRT cannot be loaded: {facts.load_error}",
                "install the TensorRT that built the plan (see `trtforge doctor`)")
    if not facts.has_runtime:
        return (f"the installed {facts.label} is a build-only flavor (it has no Runtime)",
                "install the full TensorRT or TensorRT-RTX runtime to run engines")
    ok, why = facts.can_run
    if not ok:
        if not facts.gpus.found:
            return (f"no GPU to run the engine on: {why}",
                    "run it on a machine with an NVIDIA GPU; here you can still build plans "
                    "for a target (--target sm89) and check them on CPU")
        return (f"{facts.label} cannot run engines on this GPU: {why}",
                "use full TensorRT on this GPU, or a GPU that TensorRT-RTX supports "
                "(Turing to Blackwell consumer and workstation parts)")
    built = metadata.get("tensorrt") or {}
    if (built.get("flavor"), built.get("version")) != (facts.flavor, facts.version):
        return (f"the plan was built by {built.get('flavor')} {built.get('version')}, but this "
                f"machine has {facts.flavor} {facts.version}",
                "a plan only loads in the TensorRT version that built it; rebuild it here")
    target = metadata.get("target")
    gpu = facts.gpus.gpus[0]
    if target and target != gpu.sm:
        return (f"the plan is for another GPU: built for {target}, this GPU is {gpu.name} ({gpu.sm})",
                f"rebuild with --target {gpu.sm}")
    usable, torch_why = facts.torch_cuda
    if not usable:
        return (f"the runtime needs PyTorch with CUDA for device memory and streams: {torch_why}",
                "pip install a CUDA build of torch that matches the driver")
    return None


def _torch_cuda() -> tuple[bool, str]:
    if importlib.util.find_spec("torch") is None:
        return False, "torch is not installed"
    import torch

    if not torch.cuda.is_available():
        return False, f"torch {torch.__version__} sees no CUDA device"
    return True, f"torch {torch.__version__} with CUDA {torch.version.cuda}"


def check_runnable(metadata: Mapping[str, Any], facts: RuntimeFacts | None = None) -> None:
    """Raise :class:`RuntimeUnavailableError` saying why this plan cannot run here."""
    blocker = runtime_blocker(metadata, facts if facts is not None else RuntimeFacts.probe())
    if blocker is not None:
        reason, hint = blocker
        raise RuntimeUnavailableError(f"cannot run the engine: {reason}", hint=hint)


def unavailable_reason(metadata: Mapping[str, Any]) -> str | None:
    """The reason a plan cannot run here (for report columns), or None if it can."""
    blocker = runtime_blocker(metadata, RuntimeFacts.probe())
    return blocker[0] if blocker is not None else None


# --- profiles -----------------------------------------------------------------------------
def fits(shape: Sequence[int], declared: Sequence[int]) -> bool:
    return len(shape) == len(declared) and all(d < 0 or d == s for s, d in zip(shape, declared))


def select_profile(shapes: Mapping[str, Shape], declared: Mapping[str, Shape],
                   profiles: Sequence[Mapping[str, tuple[Shape, Shape, Shape]]]) -> int:
    """Index of the first optimization profile whose min..max ranges hold every input shape.

    ``declared`` is each input's network shape (-1 where it varies); ``profiles[k][name]`` is
    ``(min, opt, max)``. Raises :class:`UsageError` naming the input and the allowed ranges.
    """
    for name, shape in shapes.items():
        if not fits(shape, declared[name]):
            raise UsageError(
                f"input {name!r} has shape {tuple(shape)}, the engine declares {tuple(declared[name])}",
                hint="fixed dimensions must match; rebuild with a profile (--input) for other shapes",
            )
    for index, profile in enumerate(profiles):
        if all(name not in profile or _within(shapes[name], *profile[name]) for name in shapes):
            return index
    ranges = "; ".join(
        f"profile {k}: " + ", ".join(f"{n} {tuple(lo)}..{tuple(hi)}" for n, (lo, _, hi) in p.items())
        for k, p in enumerate(profiles))
    raise UsageError(
        f"no optimization profile accepts the input shapes "
        f"{ {n: tuple(s) for n, s in shapes.items()} }: {ranges}",
        hint="rebuild the engine with a profile covering these shapes (InputSpec min/opt/max)",
    )


def _within(shape: Sequence[int], lo: Sequence[int], _opt: Sequence[int], hi: Sequence[int]) -> bool:
    return len(shape) == len(lo) and all(a <= s <= b for s, a, b in zip(shape, lo, hi))


# --- the runner ---------------------------------------------------------------------------
@dataclass
class _Tensor:
    name: str
    is_input: bool
    dtype: str
    declared: Shape
    buffer: Any = None  # flat torch tensor, grown on demand


class EngineRunner:
    """An engine loaded on one GPU, with its context, stream and reusable device buffers."""

    def __init__(self, engine: Any, *, device: int = 0, cuda_graph: bool = False) -> None:
        check_runnable(engine.metadata)
        import torch

        from trtforge.tensorrt.trt import get_tensorrt

        self._torch = torch
        self.engine = engine
        self.tensorrt = get_tensorrt()
        self.device = torch.device("cuda", device)
        self.cuda_graph = cuda_graph
        trt = self.tensorrt.module
        with torch.cuda.device(self.device):
            self.stream = torch.cuda.Stream(self.device)
            # The Runtime must outlive the ICudaEngine it deserialized, so both are kept.
            self._runtime = trt.Runtime(self.tensorrt.trt_logger)
            with self.tensorrt.capture_errors() as errors:
                self._cuda_engine = self._runtime.deserialize_cuda_engine(engine.plan)
            if self._cuda_engine is None:
                raise RuntimeUnavailableError(
                    "TensorRT could not load the plan on this GPU: "
                    + ("; ".join(errors[-3:]) or "no message from TensorRT"),
                    hint="rebuild the engine on this machine (trtforge convert --target "
                    f"{probe_gpus().gpus[0].sm})",
                )
            self._native_graph = False
            self._context = self._create_context(trt)
        if self._context is None:
            raise RuntimeUnavailableError("TensorRT could not create an execution context",
                                          hint="the GPU may be out of memory")
        self._tensors = self._describe_tensors(trt)
        self._profiles = self._read_profiles()
        self._active_profile = 0
        self._shapes: dict[str, Shape] | None = None
        self._views: dict[str, Any] = {}
        self._graphs: dict[tuple[Any, ...], Any] = {}
        self._not_capturable: set[tuple[Any, ...]] = set()

    # --- setup ----------------------------------------------------------------------
    def _create_context(self, trt: Any) -> Any:
        cuda_engine = self._cuda_engine
        if self.cuda_graph and hasattr(trt, "CudaGraphStrategy") and hasattr(
                cuda_engine, "create_runtime_config"):
            config = cuda_engine.create_runtime_config()
            config.cuda_graph_strategy = trt.CudaGraphStrategy.WHOLE_GRAPH_CAPTURE
            self._native_graph = True
            log.info("CUDA graphs: %s captures natively (WHOLE_GRAPH_CAPTURE)",
                     self.tensorrt.facts.label)
            return cuda_engine.create_execution_context(config)
        return cuda_engine.create_execution_context()

    def _describe_tensors(self, trt: Any) -> list[_Tensor]:
        engine = self._cuda_engine
        tensors = []
        for index in range(engine.num_io_tensors):
            name = engine.get_tensor_name(index)
            if engine.get_tensor_location(name) == trt.TensorLocation.HOST:
                raise UsageError(
                    f"engine tensor {name!r} lives in host memory (a shape tensor); this runtime "
                    f"binds device tensors only",
                    hint="export the model without shape-tensor inputs",
                )
            if hasattr(trt, "TensorFormat") and engine.get_tensor_format(name) != trt.TensorFormat.LINEAR:
                raise UsageError(f"engine tensor {name!r} uses a vectorized format; this runtime "
                                 f"binds linear tensors only")
            tensors.append(_Tensor(
                name=name,
                is_input=engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT,
                dtype=self.tensorrt.dtype_name(engine.get_tensor_dtype(name)),
                declared=tuple(int(d) for d in engine.get_tensor_shape(name)),
            ))
        return tensors

    def _read_profiles(self) -> list[dict[str, tuple[Shape, Shape, Shape]]]:
        engine = self._cuda_engine
        profiles = []
        for k in range(engine.num_optimization_profiles):
            profile = {}
            for t in self.inputs:
                if any(d < 0 for d in t.declared):
                    lo, opt, hi = engine.get_tensor_profile_shape(t.name, k)
                    profile[t.name] = (tuple(lo), tuple(opt), tuple(hi))
            profiles.append(profile)
        return profiles

    @property
    def inputs(self) -> list[_Tensor]:
        return [t for t in self._tensors if t.is_input]

    @property
    def outputs(self) -> list[_Tensor]:
        return [t for t in self._tensors if not t.is_input]

    # --- binding --------------------------------------------------------------------
    def _name_inputs(self, inputs: Any) -> dict[str, Any]:
        expected = [t.name for t in self.inputs]
        if isinstance(inputs, Mapping):
            unknown = sorted(set(inputs) - set(expected))
            missing = [n for n in expected if n not in inputs]
            if unknown or missing:
                raise UsageError(f"inputs {unknown} are unknown and {missing} are missing",
                                 hint=f"the engine's inputs are {expected}")
            return {n: inputs[n] for n in expected}
        items = [inputs] if hasattr(inputs, "shape") else list(inputs)
        if len(items) != len(expected):
            raise UsageError(f"the engine takes {len(expected)} input(s) {expected}, got {len(items)}")
        return dict(zip(expected, items))

    def _as_device_tensor(self, value: Any, tensor: _Tensor) -> Any:
        torch = self._torch
        import numpy as np

        wanted = getattr(torch, tensor.dtype)
        if isinstance(value, torch.Tensor):
            source = value
        else:
            source = torch.from_numpy(np.ascontiguousarray(value))
        if source.dtype != wanted:
            if source.dtype.is_floating_point != wanted.is_floating_point or wanted == torch.bool:
                raise UsageError(
                    f"input {tensor.name!r} is {source.dtype}, the engine wants {wanted}",
                    hint=f"convert it first, e.g. x.astype('{tensor.dtype}')",
                )
            source = source.to(wanted)
        return source

    def _buffer(self, tensor: _Tensor, shape: Shape) -> Any:
        """A view of the tensor's persistent buffer with ``shape`` (grown when too small)."""
        torch = self._torch
        count = 1
        for d in shape:
            count *= d
        if tensor.buffer is None or tensor.buffer.numel() < max(count, 1):
            tensor.buffer = torch.empty(max(count, 1), dtype=getattr(torch, tensor.dtype),
                                        device=self.device)
            self._graphs.clear()  # captured graphs hold the old addresses
        return tensor.buffer[:count].view(shape)

    def _prepare(self, shapes: dict[str, Shape]) -> dict[str, Any]:
        """Select the profile, set input shapes and all tensor addresses; returns the views."""
        context = self._context
        declared = {t.name: t.declared for t in self.inputs}
        profile = select_profile(shapes, declared, self._profiles)
        self._shapes = None  # until every shape and address is set (a failure forces a redo)
        if profile != self._active_profile:
            if not context.set_optimization_profile_async(profile, self.stream.cuda_stream):
                raise TensorRTError(f"TensorRT refused optimization profile {profile}")
            self._active_profile = profile
            self._shapes = None
        views: dict[str, Any] = {}
        for t in self.inputs:
            if not context.set_input_shape(t.name, shapes[t.name]):
                raise UsageError(f"TensorRT refused shape {shapes[t.name]} for input {t.name!r}")
            views[t.name] = self._buffer(t, shapes[t.name])
        for t in self.outputs:
            shape = tuple(int(d) for d in context.get_tensor_shape(t.name))
            if any(d < 0 for d in shape):
                raise UsageError(
                    f"output {t.name!r} has a data-dependent shape {shape}; this runtime needs "
                    f"output shapes known from the input shapes",
                    hint="give the model fixed-size outputs (e.g. pad detections to a maximum)",
                )
            views[t.name] = self._buffer(t, shape)
        for name, view in views.items():
            context.set_tensor_address(name, view.data_ptr())
        self._shapes = dict(shapes)
        self._views = views
        return views

    # --- execution ------------------------------------------------------------------
    def _execute(self, key: tuple[Any, ...]) -> None:
        """Enqueue one inference on the runner's stream (through a CUDA graph if asked)."""
        torch = self._torch
        if self.cuda_graph and not self._native_graph and key not in self._not_capturable:
            graph = self._graphs.get(key)
            if graph is None:
                graph = self._capture(key)
            if graph is not None:
                with torch.cuda.stream(self.stream):
                    graph.replay()
                return
        with self.tensorrt.capture_errors() as errors:
            ok = self._context.execute_async_v3(self.stream.cuda_stream)
        if not ok:
            raise TensorRTError("TensorRT failed to enqueue the inference: "
                                + ("; ".join(errors[-3:]) or "no message"))

    def _capture(self, key: tuple[Any, ...]) -> Any:
        """Launch once (TensorRT finishes shape-dependent setup there), then capture a graph."""
        torch = self._torch
        context = self._context
        with self.tensorrt.capture_errors() as errors:
            ok = context.execute_async_v3(self.stream.cuda_stream)
        if not ok:
            raise TensorRTError("TensorRT failed to enqueue the inference: "
                                + ("; ".join(errors[-3:]) or "no message"))
        self.stream.synchronize()
        if hasattr(context, "is_stream_capturable") and not context.is_stream_capturable(
                self.stream.cuda_stream):
            log.info("this engine cannot be captured in a CUDA graph; running it without one")
            self._not_capturable.add(key)
            return None
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=self.stream):
            captured = context.execute_async_v3(self.stream.cuda_stream)
        if not captured:
            log.info("CUDA graph capture failed for shapes %s; running without a graph", key)
            self._not_capturable.add(key)
            return None
        self._graphs[key] = graph
        return graph

    def run(self, inputs: Any) -> dict[str, Any]:
        """Run one inference. Inputs: one array/tensor, a sequence in engine order, or a dict.

        Outputs come back as a dict ``{name: value}`` in the kind of the inputs: numpy arrays
        for numpy inputs, torch tensors on the inputs' device for torch inputs.
        """
        torch = self._torch
        named = self._name_inputs(inputs)
        as_torch = any(isinstance(v, torch.Tensor) for v in named.values())
        out_device = next((v.device for v in named.values() if isinstance(v, torch.Tensor)), None)
        tensors = {t.name: self._as_device_tensor(named[t.name], t) for t in self.inputs}
        shapes = {n: tuple(int(d) for d in v.shape) for n, v in tensors.items()}
        caller = torch.cuda.current_stream(self.device)
        with torch.cuda.device(self.device):
            if shapes != self._shapes:
                self._prepare(shapes)
            views = self._views
            self.stream.wait_stream(caller)
            with torch.cuda.stream(self.stream):
                for name, value in tensors.items():
                    if value.is_cuda:
                        value.record_stream(self.stream)
                    views[name].copy_(value, non_blocking=value.is_cuda)
                self._execute(self._graph_key(shapes))
                results = {t.name: views[t.name].clone() for t in self.outputs}
            if out_device is not None and out_device.type == "cuda":
                caller.wait_stream(self.stream)
                for value in results.values():
                    value.record_stream(caller)
                return {n: v.to(out_device) for n, v in results.items()}
            self.stream.synchronize()
        if as_torch:
            return {n: v.to(out_device or "cpu") for n, v in results.items()}
        return {n: v.cpu().numpy() for n, v in results.items()}

    def _graph_key(self, shapes: Mapping[str, Shape]) -> tuple[Any, ...]:
        return (self._active_profile, *sorted(shapes.items()))

    def __call__(self, *inputs: Any) -> Any:
        """``runner(x)`` -> the output, or a tuple of outputs in engine order."""
        outputs = self.run(inputs[0] if len(inputs) == 1 and isinstance(inputs[0], Mapping) else inputs)
        values = [outputs[t.name] for t in self.outputs]
        return values[0] if len(values) == 1 else tuple(values)

    # --- benchmark ------------------------------------------------------------------
    def example_inputs(self, batch_size: int, seed: int = 0) -> dict[str, Any]:
        """Seeded random device inputs at the profile's opt shape with ``batch_size`` rows."""
        torch = self._torch
        generator = torch.Generator(device="cpu").manual_seed(seed)
        profile = self._profile_for_batch(batch_size)
        result = {}
        for t in self.inputs:
            shape = list(profile[t.name][1]) if t.name in profile else list(t.declared)
            if shape and t.declared[0] < 0:
                shape[0] = batch_size
            elif shape and shape[0] != batch_size:
                raise UsageError(
                    f"input {t.name!r} has a fixed batch of {shape[0]}, not {batch_size}",
                    hint=f"use --batch-size {shape[0]} or rebuild with a dynamic batch profile",
                )
            dtype = getattr(torch, t.dtype)
            if dtype.is_floating_point:
                value = torch.randn(shape, generator=generator).to(dtype)
            else:
                value = torch.randint(0, 2, shape, generator=generator).to(dtype)
            result[t.name] = value.to(self.device)
        return result

    def _profile_for_batch(self, batch_size: int) -> Mapping[str, tuple[Shape, Shape, Shape]]:
        """The first profile whose batch ranges hold ``batch_size`` (else the active one)."""
        for profile in self._profiles:
            if all(lo[0] <= batch_size <= hi[0] for lo, _, hi in profile.values() if lo):
                return profile
        return self._profiles[self._active_profile] if self._profiles else {}

    def benchmark(self, batch_size: int = 1, iterations: int = 100, warmup: int = 10,
                  *, name: str | None = None) -> Any:
        """Time inference on device-resident inputs with CUDA events (no host copies)."""
        from trtforge.report.benchmark import time_cuda

        inputs = self.example_inputs(batch_size)
        shapes = {n: tuple(v.shape) for n, v in inputs.items()}
        torch = self._torch
        with torch.cuda.device(self.device):
            views = self._prepare(shapes)
            self.stream.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(self.stream):
                for n, v in inputs.items():
                    views[n].copy_(v)
            key = self._graph_key(shapes)
            # One launch before timing: graph capture, RTX kernel compilation and lazy setup
            # happen here instead of inside the first timed step.
            with torch.cuda.stream(self.stream):
                self._execute(key)
            self.stream.synchronize()
            gpu = probe_gpus().gpus[0]
            return time_cuda(
                lambda: self._execute(key), name=name or _engine_name(self.engine),
                batch_size=batch_size, stream=self.stream, iterations=iterations, warmup=warmup,
                details={"route": self.engine.metadata.get("route"),
                         "precision": self.engine.metadata.get("precision"),
                         "gpu": f"{gpu.name} ({gpu.sm})", "cuda_graph": self.cuda_graph,
                         "copies": "excluded (inputs already on the device)"},
            )


def _engine_name(engine: Any) -> str:
    if engine.path is not None:
        return engine.path.name
    meta = engine.metadata
    source = (meta.get("source") or {}).get("name", "engine")
    return f"trt_{meta.get('route')}_{meta.get('precision')}_{source}"


def runner_for(engine: Any, *, device: int = 0, cuda_graph: bool = False) -> EngineRunner:
    """The engine's runner for these options, created once and kept on the engine."""
    runners = engine.extras.setdefault(_RUNNER_KEY, {})
    key = (device, cuda_graph)
    if key not in runners:
        runners[key] = EngineRunner(engine, device=device, cuda_graph=cuda_graph)
    return runners[key]
