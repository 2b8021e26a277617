"""The one place that imports TensorRT.

It picks ``tensorrt`` (8.5+, 10.x, 11.x) or ``tensorrt_rtx``, describes what that flavor and
version can do as plain facts (:class:`TrtFacts`, testable without TensorRT), and hides the
differences: explicit-batch versus strongly typed network flags, precision as builder flags
(weakly typed 8.x) versus graph dtypes (10+), ahead-of-time GPU targets (RTX), timing caches,
tactic sources whose libraries are missing.
"""
from __future__ import annotations

import ctypes
import importlib
import logging
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from trtforge.errors import BuildError, TensorRTError, UsageError
from trtforge.tensorrt.gpu import GpuProbe, probe_gpus
from trtforge.conversion.specs import BuildSettings, InputSpec, Precision, Target

log = logging.getLogger(__name__)

FLAVORS = ("tensorrt", "tensorrt_rtx")
FLAVOR_ENV = "TRTFORGE_TENSORRT"
RTX_TARGETS = ("sm75", "sm80", "sm86", "sm89", "sm120", "sm121")
RTX_UNRUNNABLE = {(9, 0): "TensorRT-RTX refuses compute capability 9.0 (H100/H200)"}

# Messages the RTX builder logs as errors on a machine without a GPU even when the
# ahead-of-time build succeeds; they are noise unless the build itself fails.
_CPU_ONLY_NOISE = ("catchCudaError", "CUDA driver version is insufficient", "cudaError 35",
                   "no CUDA-capable device")


def _parse_version(text: str) -> tuple[int, int, int]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    while len(parts) < 3:
        parts.append(0)
    return (parts[0], parts[1], parts[2])


@dataclass(frozen=True)
class TrtFacts:
    """What a TensorRT flavor+version does, derived from the version alone.

    Kept separate from the module so that the version logic is unit-tested on any machine by
    feeding it versions, instead of mocking TensorRT.
    """

    flavor: str
    version: tuple[int, int, int]

    @classmethod
    def of(cls, flavor: str, version: str | tuple[int, ...]) -> "TrtFacts":
        if flavor not in FLAVORS:
            raise UsageError(f"unknown TensorRT flavor {flavor!r}", hint=f"use one of {FLAVORS}")
        if isinstance(version, str):
            parsed = _parse_version(version)
        else:
            parsed = tuple(int(v) for v in (tuple(version) + (0, 0, 0))[:3])  # type: ignore[assignment]
        if flavor == "tensorrt" and parsed < (8, 5, 0):
            raise TensorRTError(
                f"TensorRT {'.'.join(map(str, parsed))} is too old",
                hint="trtforge supports TensorRT 8.5, 8.6, 10.x, 11.x and TensorRT-RTX",
            )
        return cls(flavor, parsed)  # type: ignore[arg-type]

    @property
    def is_rtx(self) -> bool:
        return self.flavor == "tensorrt_rtx"

    @property
    def version_text(self) -> str:
        return ".".join(str(v) for v in self.version)

    @property
    def label(self) -> str:
        return f"{'TensorRT-RTX' if self.is_rtx else 'TensorRT'} {self.version_text}"

    @property
    def typing(self) -> str:
        """``weak`` (8.x/9.x: builder flags), ``strong-flag`` (10.x), ``strong-implicit``."""
        if self.is_rtx or self.version[0] >= 11:
            return "strong-implicit"
        if self.version[0] >= 10:
            return "strong-flag"
        return "weak"

    @property
    def needs_explicit_batch_flag(self) -> bool:
        return not self.is_rtx and self.version[0] < 10

    @property
    def precision_via_builder_flags(self) -> bool:
        return self.typing == "weak"

    @property
    def supports_bf16(self) -> bool:
        return self.is_rtx or self.version >= (9, 0, 0)

    @property
    def int64_tensors(self) -> bool:
        """TensorRT < 10 has no INT64 tensors: shape arithmetic must be INT32 there."""
        return self.is_rtx or self.version[0] >= 10

    @property
    def index_dtype(self) -> str:
        """The integer type of shape tensors and indices a route should build with."""
        return "int64" if self.int64_tensors else "int32"

    @property
    def layers_take_output_type(self) -> bool:
        """TensorRT 10+ takes the output type of Quantize/Dequantize/Fill layers; 8.x always
        quantizes to INT8, dequantizes to FP32 and fills in FP32 (``add_quantize(x, scale)``)."""
        return self.is_rtx or self.version[0] >= 10

    @property
    def max_onnx_opset(self) -> int:
        """The newest ONNX opset the bundled ONNX parser reads (onnx-tensorrt's README per release:
        8.5/8.6 -> 17, 9.x -> 19, 10.x -> 20). Newer opsets change semantics the old parsers
        misread (ReduceMean-18's axes input read as 'reduce every axis' by 8.6)."""
        if self.is_rtx or self.version[0] >= 10:
            return 20
        if self.version[0] == 9:
            return 19
        return 17

    @property
    def ahead_of_time_targets(self) -> bool:
        """RTX builds for a chosen compute capability; full TensorRT builds for its own GPU."""
        return self.is_rtx

    @property
    def timing_cache(self) -> bool:
        return not self.is_rtx  # RTX 1.2+ made timing-cache operations no-ops

    @property
    def optimization_level(self) -> bool:
        return self.is_rtx or self.version >= (8, 6, 0)

    @property
    def prune_missing_tactic_libraries(self) -> bool:
        """8.x enables cuBLAS/cuDNN tactics by default and fails if the libraries are absent."""
        return not self.is_rtx and self.version[0] < 10

    @property
    def quantizes_float_depthwise_output(self) -> bool:
        """Whether a Quantize after a *float* depthwise convolution (an INT8 convolution
        reading it) builds right. TensorRT 8.6 fuses that Quantize into the float depthwise
        kernel and computes it wrongly: MobileNetV2 with the first blocks kept in float by
        accuracy control gave cosine 0.787 on the H200 where the same Q/DQ graph gives 0.991
        in onnxruntime, and 0.991 on the GPU once the Conv after the float depthwise one was
        float too (benchmarks/results/2026-12-03d-h200-trt8.6). Measured on 8.6, assumed for
        every weakly typed version; 10.x/RTX were not measured on a GPU and keep the graph."""
        return self.typing != "weak"

    def behaviours(self) -> list[str]:
        """Human-readable list of the adapter behaviours in force, for ``trtforge doctor``."""
        items = []
        if self.needs_explicit_batch_flag:
            items.append("networks created with the EXPLICIT_BATCH flag")
        if self.typing == "weak":
            items.append(
                "weak typing: fp16/int8 become builder flags (FP16, INT8); networks with "
                "explicit reduced-precision tensors also get OBEY_PRECISION_CONSTRAINTS"
            )
        elif self.typing == "strong-flag":
            items.append("strongly typed networks via the STRONGLY_TYPED creation flag")
        else:
            items.append("strong typing is implicit; precision is a graph transform")
        items.append("bf16 supported" if self.supports_bf16 else "bf16 not supported by this version")
        if not self.int64_tensors:
            items.append("no INT64 tensors: shape tensors and indices are built as INT32 "
                         "(values checked to fit)")
        items.append(f"ONNX parser reads opsets up to {self.max_onnx_opset}; newer models are "
                     "exported or down-converted to it")
        if self.ahead_of_time_targets:
            items.append(f"ahead-of-time GPU targets: {', '.join(RTX_TARGETS)}")
        else:
            items.append("builds for the GPU of this machine")
        items.append("timing cache used" if self.timing_cache else "timing cache is a no-op (skipped)")
        if self.prune_missing_tactic_libraries:
            items.append("cuBLAS/cuBLASLt/cuDNN tactic sources dropped when their libraries are absent")
        if not self.quantizes_float_depthwise_output:
            items.append("INT8: an op reading a float depthwise convolution is kept in float too "
                         "(this version mis-fuses the Quantize into the float kernel)")
        items.append("TF32 on by default; off with tf32=False for exact FP32 checks")
        return items


class _Logger:
    """Routes TensorRT's log into ``logging`` and keeps the errors of the current build."""

    def __init__(self, module: Any) -> None:
        base = module.ILogger

        outer = self

        class CapturingLogger(base):  # type: ignore[misc, valid-type]
            def __init__(self) -> None:
                base.__init__(self)

            def log(self, severity: Any, msg: str) -> None:
                try:
                    outer._record(severity, msg)
                except BaseException as exc:  # TensorRT would swallow it (Ctrl-C included)
                    outer.interrupted = outer.interrupted or exc

        self.severity = module.ILogger.Severity
        self.trt_logger = CapturingLogger()
        self._captured: list[str] | None = None
        self._lock = threading.Lock()
        # A KeyboardInterrupt/SystemExit raised while TensorRT was calling back into Python:
        # kept here, and raised again once TensorRT returns (see ``interruptible``).
        self.interrupted: BaseException | None = None
        self.progress_monitor = self._make_monitor(module)

    def _make_monitor(self, module: Any) -> Any:
        """A progress monitor that cancels the build once an interrupt arrived (if supported)."""
        base = getattr(module, "IProgressMonitor", None)
        if base is None:
            return None
        outer = self

        class CancellingMonitor(base):  # type: ignore[misc, valid-type]
            def __init__(self) -> None:
                base.__init__(self)

            def phase_start(self, phase_name: str, parent_phase: Any, num_steps: int) -> None:
                outer._poll()

            def step_complete(self, phase_name: str, step: int) -> bool:
                return outer._poll()

            def phase_finish(self, phase_name: str) -> None:
                outer._poll()

        try:
            return CancellingMonitor()
        except Exception:  # pragma: no cover - bindings without a constructible monitor
            return None

    def _poll(self) -> bool:
        """False (stop the build) once an interrupt arrived."""
        return self.interrupted is None

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """Around a TensorRT call: Ctrl-C / SIGTERM are noted (not raised inside TensorRT's
        callbacks, where TensorRT would swallow them), the progress monitor cancels the build,
        and the interrupt is raised once TensorRT has returned."""
        import signal

        self.interrupted = None

        def noted(exc: BaseException) -> Any:
            def handler(signum: int, frame: Any) -> None:
                self.interrupted = self.interrupted or exc
            return handler

        previous: dict[int, Any] = {}
        wanted = [(signal.SIGINT, KeyboardInterrupt())]
        if callable(signal.getsignal(signal.SIGTERM)):
            wanted.append((signal.SIGTERM, SystemExit(128 + signal.SIGTERM)))
        try:
            for signum, exc in wanted:
                if callable(signal.getsignal(signum)):
                    previous[signum] = signal.signal(signum, noted(exc))
        except ValueError:  # not the main thread: signals stay as they are
            pass
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            caught, self.interrupted = self.interrupted, None
        if caught is not None:
            raise caught

    def _record(self, severity: Any, msg: str) -> None:
        if self.interrupted is not None:  # "BuildCanceled" and the like: the user asked for it
            log.debug("TensorRT (interrupted): %s", msg)
            return
        noisy = any(n in msg for n in _CPU_ONLY_NOISE)
        if severity in (self.severity.INTERNAL_ERROR, self.severity.ERROR):
            if self._captured is not None:
                self._captured.append(msg)
            log.debug("TensorRT: %s", msg) if noisy else log.warning("TensorRT: %s", msg)
        elif severity == self.severity.WARNING:
            log.info("TensorRT: %s", msg)
        else:
            log.debug("TensorRT: %s", msg)

    @contextmanager
    def capture(self) -> Iterator[list[str]]:
        with self._lock:
            self._captured = []
            self.interrupted = None
            try:
                yield self._captured
            finally:
                self._captured = None
        # Ctrl-C inside a callback of the parser (or any captured call) was kept by ``log``:
        # raise it now that TensorRT has returned.
        caught, self.interrupted = self.interrupted, None
        if caught is not None:
            raise caught


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}


@dataclass
class BuildResult:
    plan: bytes
    target: str | None
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)


_DTYPE_NAMES = {
    "FLOAT": "float32", "HALF": "float16", "BF16": "bfloat16", "INT8": "int8", "UINT8": "uint8",
    "INT32": "int32", "INT64": "int64", "BOOL": "bool", "FP8": "float8", "INT4": "int4",
    "FP4": "float4", "E8M0": "e8m0",
}
_TRT_DTYPES = {v: k for k, v in _DTYPE_NAMES.items()}


class TensorRT:
    """A loaded TensorRT module plus the facts about it; creates networks and builds plans."""

    def __init__(self, module: Any, facts: TrtFacts) -> None:
        self.module = module
        self.facts = facts
        self.build_count = 0
        self._logger = _Logger(module)
        self._builder: Any = None

    # --- identity -------------------------------------------------------------------
    @property
    def flavor(self) -> str:
        return self.facts.flavor

    @property
    def version(self) -> str:
        return self.facts.version_text

    @property
    def trt_logger(self) -> Any:
        return self._logger.trt_logger

    @property
    def builder(self) -> Any:
        if self._builder is None:
            self._builder = self.module.Builder(self._logger.trt_logger)
        return self._builder

    # --- dtypes ---------------------------------------------------------------------
    def dtype_name(self, dtype: Any) -> str:
        return _DTYPE_NAMES.get(dtype.name, dtype.name.lower())

    def trt_dtype(self, name: str) -> Any:
        try:
            return getattr(self.module.DataType, _TRT_DTYPES[name])
        except (KeyError, AttributeError):
            raise UsageError(f"{self.facts.label} has no data type {name!r}") from None

    # --- networks -------------------------------------------------------------------
    def create_network(self) -> Any:
        flags = 0
        creation = self.module.NetworkDefinitionCreationFlag
        if self.facts.needs_explicit_batch_flag:
            flags |= 1 << int(creation.EXPLICIT_BATCH)
        if self.facts.typing == "strong-flag":
            flags |= 1 << int(creation.STRONGLY_TYPED)
        return self.builder.create_network(flags)

    def add_quantize(self, network: Any, x: Any, scale: Any, dtype: str = "int8") -> Any:
        """A Quantize layer to ``dtype`` in the form this version's layer API has."""
        if self.facts.layers_take_output_type:
            return network.add_quantize(x, scale, self.trt_dtype(dtype))
        if dtype != "int8":
            raise UsageError(f"{self.facts.label} quantizes to int8 only, not {dtype}")
        return network.add_quantize(x, scale)

    def add_dequantize(self, network: Any, q: Any, scale: Any, dtype: str = "float32") -> Any:
        """A Dequantize layer to ``dtype``; on 8.x (FP32 only) the caller casts afterwards:
        see :meth:`dequantized_dtype`."""
        if self.facts.layers_take_output_type:
            return network.add_dequantize(q, scale, self.trt_dtype(dtype))
        return network.add_dequantize(q, scale)

    def dequantized_dtype(self, wanted: str) -> str:
        """What a Dequantize layer built by :meth:`add_dequantize` for ``wanted`` outputs."""
        return wanted if self.facts.layers_take_output_type else "float32"

    def create_onnx_parser(self, network: Any) -> Any:
        return self.module.OnnxParser(network, self._logger.trt_logger)

    @contextmanager
    def capture_errors(self) -> Iterator[list[str]]:
        """Collect the error messages TensorRT logs inside the block (parser, builder)."""
        with self._logger.capture() as errors:
            yield errors

    def network_io(self, network: Any) -> tuple[list[TensorInfo], list[TensorInfo]]:
        def info(t: Any) -> TensorInfo:
            return TensorInfo(t.name, self.dtype_name(t.dtype), tuple(int(d) for d in t.shape))

        inputs = [info(network.get_input(i)) for i in range(network.num_inputs)]
        outputs = [info(network.get_output(i)) for i in range(network.num_outputs)]
        return inputs, outputs

    def has_reduced_precision_tensors(self, network: Any) -> bool:
        reduced = {"float16", "bfloat16", "int8", "float8"}
        for i in range(network.num_layers):
            layer = network.get_layer(i)
            for j in range(layer.num_outputs):
                if self.dtype_name(layer.get_output(j).dtype) in reduced:
                    return True
        return False

    # --- building -------------------------------------------------------------------
    def resolve_target(self, target: Target | str | None, gpus: GpuProbe | None = None) -> Target | None:
        """Pick the GPU to build for, or explain why none can be picked."""
        gpus = gpus if gpus is not None else probe_gpus()
        wanted = Target.parse(target) if target is not None else None
        if self.facts.ahead_of_time_targets:
            if wanted is not None:
                if wanted.name not in RTX_TARGETS:
                    raise UsageError(
                        f"{self.facts.label} cannot build for {wanted.name}",
                        hint=f"pick one of {', '.join(RTX_TARGETS)}",
                    )
                return wanted
            if not gpus.found:
                raise UsageError(
                    f"no GPU here ({gpus.reason}), so there is no GPU to build for",
                    hint=f"pick the GPU the engine will run on with target=, e.g. target='sm89' "
                    f"(--target sm89); one of {', '.join(RTX_TARGETS)}",
                )
            return None  # current GPU
        if not gpus.found:
            raise TensorRTError(
                f"{self.facts.label} needs a GPU to build engines and this machine has none "
                f"({gpus.reason})",
                hint="build on the GPU the engine will run on, or install TensorRT-RTX "
                "(pip install 'trtforge[rtx]') to build ahead of time with --target",
            )
        local = gpus.gpus[0]
        if wanted is not None and (wanted.major, wanted.minor) != (local.major, local.minor):
            raise UsageError(
                f"{self.facts.label} builds for the GPU it runs on ({local.name}, {local.sm}), "
                f"not for {wanted.name}",
                hint="drop --target, build on a machine with that GPU, or use TensorRT-RTX",
            )
        return Target(local.major, local.minor)

    def _missing_tactic_libraries(self) -> list[str]:
        candidates = {
            "CUBLAS": ("libcublas.so.12", "libcublas.so.11"),
            "CUBLAS_LT": ("libcublasLt.so.12", "libcublasLt.so.11"),
            "CUDNN": ("libcudnn.so.8", "libcudnn.so.9"),
        }
        missing = []
        for source, libraries in candidates.items():
            for library in libraries:
                try:
                    ctypes.CDLL(library)
                    break
                except OSError:
                    continue
            else:
                missing.append(source)
        return missing

    def _configure_profiles(self, config: Any, network: Any, inputs: Sequence[InputSpec]) -> int:
        by_name = {spec.name: spec for spec in inputs if spec.name}
        unnamed = [spec for spec in inputs if not spec.name]
        resolved: dict[str, InputSpec] = {}
        for i in range(network.num_inputs):
            tensor = network.get_input(i)
            # TensorFlow names tensors "op:0"; a spec may name the op ("x" for "x:0").
            spec = by_name.pop(tensor.name, None) or by_name.pop(tensor.name.removesuffix(":0"), None)
            if spec is None and unnamed:
                spec = unnamed.pop(0)
            shape = tuple(int(d) for d in tensor.shape)
            if spec is None:
                if any(d < 0 for d in shape):
                    raise UsageError(
                        f"network input {tensor.name!r} has a dynamic shape {shape} but no input "
                        f"spec gives its range",
                        hint=f"pass InputSpec({tensor.name!r}, min=..., opt=..., max=...) or "
                        f"--input {tensor.name}:MINxC...,OPT...,MAX...",
                    )
                continue
            for p in spec.profiles:
                for which in (p.min, p.opt, p.max):
                    if len(which) != len(shape) or any(
                        d >= 0 and d != w for d, w in zip(shape, which)
                    ):
                        raise UsageError(
                            f"input {tensor.name!r}: shape {which} does not fit the network's "
                            f"declared shape {shape}",
                            hint="fixed dimensions must match; -1 marks the ones that may vary",
                        )
            resolved[tensor.name] = spec
        if by_name:
            names = [network.get_input(i).name for i in range(network.num_inputs)]
            raise UsageError(
                f"input spec names {sorted(by_name)} match no network input",
                hint=f"the network's inputs are {names}",
            )
        dynamic = {n: s for n, s in resolved.items() if s.is_dynamic or len(s.profiles) > 1}
        count = max((len(s.profiles) for s in dynamic.values()), default=0)
        for k in range(count):
            profile = self.builder.create_optimization_profile()
            for name, spec in resolved.items():
                p = spec.profiles[min(k, len(spec.profiles) - 1)]
                profile.set_shape(name, p.min, p.opt, p.max)
            config.add_optimization_profile(profile)
        return count

    def build(
        self,
        network: Any,
        *,
        inputs: Sequence[InputSpec] = (),
        precision: Precision = Precision.FP32,
        target: Target | str | None = None,
        settings: BuildSettings | None = None,
    ) -> BuildResult:
        """Build a serialized plan; raise :class:`BuildError` with TensorRT's own messages."""
        settings = settings or BuildSettings()
        precision = Precision.parse(precision)
        trt = self.module
        resolved = self.resolve_target(target)
        config = self.builder.create_builder_config()
        applied: dict[str, Any] = {"typing": self.facts.typing, "tf32": settings.tf32}

        profiles = self._configure_profiles(config, network, inputs)
        applied["profiles"] = profiles
        if settings.workspace_bytes:
            config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(settings.workspace_bytes))
            applied["workspace_bytes"] = int(settings.workspace_bytes)
        if settings.optimization_level is not None:
            if not 0 <= settings.optimization_level <= 5:
                raise UsageError("builder optimization level must be between 0 and 5")
            if self.facts.optimization_level:
                config.builder_optimization_level = int(settings.optimization_level)
                applied["optimization_level"] = int(settings.optimization_level)
            else:
                log.warning("%s has no builder optimization level; ignored", self.facts.label)
        if not settings.tf32 and hasattr(trt.BuilderFlag, "TF32"):
            config.clear_flag(trt.BuilderFlag.TF32)
        if self.facts.precision_via_builder_flags:
            applied["builder_flags"] = self._apply_weak_precision(config, network, precision)
        elif precision is Precision.BF16 and not self.facts.supports_bf16:
            raise UsageError(f"{self.facts.label} does not support bf16")
        if self.facts.prune_missing_tactic_libraries and hasattr(trt, "TacticSource"):
            missing = self._missing_tactic_libraries()
            if missing:
                sources = config.get_tactic_sources()
                for name in missing:
                    if hasattr(trt.TacticSource, name):
                        sources &= ~(1 << int(getattr(trt.TacticSource, name)))
                config.set_tactic_sources(sources)
                log.info("tactic sources %s left out: their libraries are not installed", missing)
                applied["tactic_sources_dropped"] = missing
        if resolved is not None and self.facts.ahead_of_time_targets:
            config.num_compute_capabilities = 1
            config.set_compute_capability(getattr(trt.ComputeCapability, resolved.name.upper()), 0)
        if settings.profiling_verbosity and hasattr(config, "profiling_verbosity"):
            config.profiling_verbosity = getattr(trt.ProfilingVerbosity, settings.profiling_verbosity.upper())
            applied["profiling_verbosity"] = settings.profiling_verbosity
        from trtforge.tensorrt.timing_cache import BuildTimingCache

        timing, record = BuildTimingCache.attach(self.facts, config, settings.timing_cache)
        if record:
            applied["timing_cache"] = record

        start = time.perf_counter()
        monitor = self._logger.progress_monitor
        if monitor is not None and hasattr(config, "progress_monitor"):
            config.progress_monitor = monitor  # lets Ctrl-C cancel the build
        with self.capture_errors() as errors, self._logger.interruptible():
            self.build_count += 1
            plan = self.builder.build_serialized_network(network, config)
        seconds = time.perf_counter() - start
        if plan is None:
            real = [e for e in errors if not any(n in e for n in _CPU_ONLY_NOISE)] or errors
            raise BuildError(
                f"{self.facts.label} could not build the network: "
                + ("; ".join(real[-3:]) if real else "no message from the builder"),
                hint="run with --debug for TensorRT's full log",
            )
        if timing is not None:
            applied["timing_cache"] = timing.finish()
        return BuildResult(
            plan=bytes(plan),
            target=resolved.name if resolved is not None else None,
            seconds=seconds,
            settings=applied,
        )

    def _apply_weak_precision(self, config: Any, network: Any, precision: Precision) -> list[str]:
        """8.x: precision is a builder flag; explicit fp16 tensors need the 'obey' flag."""
        flags = self.module.BuilderFlag
        applied = []
        if precision is Precision.BF16:
            if not self.facts.supports_bf16:
                raise UsageError(
                    f"{self.facts.label} does not support bf16", hint="use fp16 on this TensorRT"
                )
            config.set_flag(flags.BF16)
            applied.append("BF16")
        if precision in (Precision.FP16, Precision.INT8):
            config.set_flag(flags.FP16)
            applied.append("FP16")
        if precision is Precision.INT8:
            config.set_flag(flags.INT8)
            applied.append("INT8")
        if self.has_reduced_precision_tensors(network):
            config.set_flag(flags.OBEY_PRECISION_CONSTRAINTS)
            applied.append("OBEY_PRECISION_CONSTRAINTS")
            if "FP16" not in applied:
                config.set_flag(flags.FP16)
                applied.append("FP16")
            pinned = self._pin_float_islands(network)
            if pinned:
                applied.append(f"FP32 islands pinned: {pinned} layer(s)")
        return applied

    # Layers that compute nothing a precision could change.
    _NOT_COMPUTE = {"CAST", "CONSTANT", "SHAPE", "IDENTITY", "SHUFFLE", "CONCATENATION", "SLICE",
                    "GATHER", "QUANTIZE", "DEQUANTIZE", "ASSERTION"}

    def _pin_float_islands(self, network: Any) -> int:
        """Weak typing reads tensor dtypes as hints: a layer a route kept in FP32 inside an
        fp16/bf16 network (softmax, norms, reductions) may still run in FP16 unless its
        precision is set. Pinned where its outputs are FP32 and a float input feeds it; INT8
        (Q/DQ) networks are left alone, where such a pin would stop Q/DQ fusion."""
        reduced = {"float16", "bfloat16"}
        names: set[str] = set()
        for i in range(network.num_layers):
            layer = network.get_layer(i)
            names.update(self.dtype_name(layer.get_output(j).dtype) for j in range(layer.num_outputs))
        if not names & reduced or "int8" in names:
            return 0
        float32 = self.module.float32
        pinned = 0
        for i in range(network.num_layers):
            layer = network.get_layer(i)
            if layer.type.name in self._NOT_COMPUTE or layer.num_outputs == 0:
                continue
            outputs = [self.dtype_name(layer.get_output(j).dtype) for j in range(layer.num_outputs)]
            inputs = [layer.get_input(j) for j in range(layer.num_inputs)]
            if all(o == "float32" for o in outputs) and any(
                    t is not None and self.dtype_name(t.dtype) == "float32" for t in inputs):
                layer.precision = float32
                for j in range(layer.num_outputs):
                    layer.set_output_type(j, float32)
                pinned += 1
        return pinned

    # --- running --------------------------------------------------------------------
    def can_run(self, gpus: GpuProbe | None = None) -> tuple[bool, str]:
        gpus = gpus if gpus is not None else probe_gpus()
        if not gpus.found:
            return False, gpus.reason
        gpu = gpus.gpus[0]
        if self.facts.is_rtx:
            reason = RTX_UNRUNNABLE.get((gpu.major, gpu.minor))
            if reason:
                return False, f"{reason}; this GPU is {gpu.name}"
            if gpu.sm not in RTX_TARGETS:
                return False, f"TensorRT-RTX does not run on {gpu.name} ({gpu.sm})"
        return True, f"{gpu.name} ({gpu.sm})"

    def can_build(self, gpus: GpuProbe | None = None) -> tuple[bool, str]:
        gpus = gpus if gpus is not None else probe_gpus()
        if self.facts.ahead_of_time_targets:
            if gpus.found:
                return True, "for this GPU or ahead of time for any target"
            return True, f"ahead of time only (no GPU: {gpus.reason}); pass a target"
        if gpus.found:
            return True, f"for this GPU ({gpus.gpus[0].sm})"
        return False, f"full TensorRT builds only on a GPU ({gpus.reason})"


_lock = threading.Lock()
_instance: TensorRT | None = None


def import_tensorrt(preferred: str | None = None) -> tuple[Any, str]:
    """Import the TensorRT flavor asked for (env ``TRTFORGE_TENSORRT``) or the first that works."""
    preferred = preferred or os.environ.get(FLAVOR_ENV) or None
    order = [preferred] if preferred else list(FLAVORS)
    problems = []
    for name in order:
        if name not in FLAVORS:
            raise UsageError(f"{FLAVOR_ENV}={name!r} is not a TensorRT flavor",
                             hint=f"use one of {', '.join(FLAVORS)}")
        try:
            module = importlib.import_module(name)
            getattr(module, "Builder")
            return module, name
        except Exception as exc:  # a stub or broken install raises all sorts of errors
            problems.append(f"{name}: {type(exc).__name__}: {exc}".splitlines()[0])
    raise TensorRTError(
        "TensorRT is not installed (" + "; ".join(problems) + ")",
        hint="pip install 'trtforge[rtx]' for TensorRT-RTX, or 'trtforge[tensorrt]' with NVIDIA's index",
    )


def get_tensorrt() -> TensorRT:
    """The process-wide adapter (TensorRT wants one logger and builder per process)."""
    global _instance
    with _lock:
        if _instance is None:
            module, flavor = import_tensorrt()
            _instance = TensorRT(module, TrtFacts.of(flavor, module.__version__))
        return _instance


def tensorrt_identity() -> dict[str, str] | None:
    """Flavor and version if TensorRT imports, else None (used for cache keys and doctor)."""
    try:
        adapter = get_tensorrt()
    except TensorRTError:
        return None
    return {"flavor": adapter.flavor, "version": adapter.version}
