"""TF-TRT's Python API on any TensorFlow: ``TrtGraphConverterV2`` and TF1's
``create_inference_graph``, backed by the ``tf_trt`` route.

A TF-TRT script runs with one import changed::

    from trtforge_tf_trt import compat as trt      # was: from tensorflow.python.compiler.tensorrt import trt_convert as trt
    converter = trt.TrtGraphConverterV2(input_saved_model_dir="resnet_savedmodel",
                                        precision_mode=trt.TrtPrecisionMode.FP16)
    converter.convert()                      # INT8: converter.convert(calibration_input_fn=calib)
    converter.build(input_fn=input_fn)       # optional: the shapes the engine serves
    converter.save("resnet_trt")
    loaded = trtforge_tf_trt.load("resnet_trt")   # was: tf.saved_model.load(...)
    infer = loaded.signatures["serving_default"]
    out = infer(tf.constant(batch))["predictions"].numpy()

What differs from TF-TRT: ``save`` writes a trtforge program folder (TensorRT plans, TensorFlow
GraphDef stages for what TensorRT cannot run, a manifest), not a SavedModel with
``TRTEngineOp`` nodes inside -- those need a TensorFlow built with TensorRT, which no
TensorFlow >= 2.18 is. Engines are built in ``build``/``save`` ahead of time (never at the
first call), for the shapes ``build``'s ``input_fn`` yields (a min/opt/max profile over them)
or, without ``build``, the model's own shapes with free dimensions set to 1. ``target``
(an addition) names the GPU to build for on a machine without one (``"sm89"``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from trtforge.arrays import to_numpy
from trtforge.errors import UsageError

log = logging.getLogger(__name__)

DEFAULT_MAX_WORKSPACE_SIZE_BYTES = 1 << 30


class TrtPrecisionMode:
    FP32 = "FP32"
    FP16 = "FP16"
    INT8 = "INT8"

    @staticmethod
    def supported_precision_modes() -> list[str]:
        return [TrtPrecisionMode.FP32, TrtPrecisionMode.FP16, TrtPrecisionMode.INT8]


@dataclass(frozen=True)
class TrtConversionParams:
    """TF-TRT's conversion parameters (``maximum_cached_engines``, ``use_calibration`` and
    ``allow_build_at_runtime`` are accepted for compatibility: engines are built ahead of time)."""

    max_workspace_size_bytes: int = DEFAULT_MAX_WORKSPACE_SIZE_BYTES
    precision_mode: str = TrtPrecisionMode.FP32
    minimum_segment_size: int = 3
    maximum_cached_engines: int = 1
    use_calibration: bool = True
    allow_build_at_runtime: bool = True

    def _replace(self, **changes: Any) -> "TrtConversionParams":
        return replace(self, **changes)


DEFAULT_TRT_CONVERSION_PARAMS = TrtConversionParams()
_PRECISIONS = {"FP32": "fp32", "FP16": "fp16", "INT8": "int8", "BF16": "bf16"}


def _precision(mode: str) -> str:
    value = _PRECISIONS.get(str(mode).upper())
    if value is None:
        raise UsageError(f"unknown precision_mode {mode!r}",
                         hint=f"use one of {', '.join(TrtPrecisionMode.supported_precision_modes())}")
    return value


def _arrays(item: Any) -> list[np.ndarray]:
    """One input_fn / calibration_input_fn item (a tensor, or a tuple/list of them) as arrays."""
    values = list(item) if isinstance(item, (tuple, list)) else [item]
    return [to_numpy(v) for v in values]


class TrtGraphConverterV2:
    """TF-TRT's TF2 converter over the ``tf_trt`` route (see the module docstring)."""

    def __init__(self, input_saved_model_dir: str | None = None, input_saved_model_tags: Any = None,
                 input_saved_model_signature_key: str | None = None, use_dynamic_shape: bool | None = None,
                 dynamic_shape_profile_strategy: str | None = None,
                 max_workspace_size_bytes: int = DEFAULT_MAX_WORKSPACE_SIZE_BYTES,
                 precision_mode: str = TrtPrecisionMode.FP32, minimum_segment_size: int = 3,
                 maximum_cached_engines: int = 1, use_calibration: bool = True,
                 allow_build_at_runtime: bool = True, conversion_params: TrtConversionParams | None = None,
                 *, target: str | None = None) -> None:
        if input_saved_model_dir is None:
            raise UsageError("TrtGraphConverterV2 needs input_saved_model_dir",
                             hint="save the model with tf.saved_model.save(model, DIR) first")
        params = conversion_params or TrtConversionParams(
            max_workspace_size_bytes, precision_mode, minimum_segment_size, maximum_cached_engines,
            use_calibration, allow_build_at_runtime)
        self.input_saved_model_dir = str(input_saved_model_dir)
        self.signature = input_saved_model_signature_key or "serving_default"
        self.params = params
        self.precision = _precision(params.precision_mode)
        self.target = target
        self._calibration: list[list[np.ndarray]] | None = None
        self._shapes: list[list[tuple[int, ...]]] = []
        self._converted = False
        self._built: Any = None

    # --- TF-TRT's steps ---------------------------------------------------------------------
    def convert(self, calibration_input_fn: Callable[[], Iterable[Any]] | None = None) -> "TrtGraphConverterV2":
        """Freeze the signature and check every node (the coverage report is logged); INT8 reads
        its calibration batches from ``calibration_input_fn`` now."""
        from trtforge.errors import UnsupportedOperationsError
        from trtforge.conversion.specs import BuildSpec

        from trtforge_tf_trt.convert import prepare

        if self.precision == "int8":
            if calibration_input_fn is None:
                raise UsageError("INT8 conversion needs calibration_input_fn",
                                 hint="convert(calibration_input_fn=fn) where fn yields input batches")
            self._calibration = [_arrays(item) for item in calibration_input_fn()]
            if not self._calibration:
                raise UsageError("calibration_input_fn yielded no batches")
        prepared = prepare(self.input_saved_model_dir, BuildSpec(), options={"signature": self.signature})
        self._prepared = prepared
        log.info("tf_trt compat: %s", prepared.report.summary())
        if not prepared.report.complete:
            log.info("tf_trt compat: TensorFlow will run %s", "; ".join(prepared.report.gaps()))
            if self.precision == "int8":
                raise UnsupportedOperationsError(
                    "INT8 with TensorFlow fallback segments is not supported: " + "; ".join(prepared.report.gaps()),
                    route="tf_trt", unsupported=prepared.report.gaps(),
                    hint="use FP32/FP16 for this model, or add converters for these ops")
        self._converted = True
        return self

    def build(self, input_fn: Callable[[], Iterable[Any]]) -> "TrtGraphConverterV2":
        """Build the engines for the input shapes ``input_fn`` yields (one profile over them)."""
        self._require_converted()
        for item in input_fn():
            self._shapes.append([tuple(a.shape) for a in _arrays(item)])
        if not self._shapes:
            raise UsageError("input_fn yielded no inputs")
        self._built = self._build()
        return self

    def save(self, output_saved_model_dir: str | Path) -> Path:
        """Write a trtforge program folder (engines built now if ``build`` was not called)."""
        self._require_converted()
        if self._built is None:
            self._built = self._build()
        return as_program(self._built).save(output_saved_model_dir)

    def summary(self) -> str:
        self._require_converted()
        return "\n".join([self._prepared.report.summary(), *self._prepared.report.gaps()])

    # --- internals ----------------------------------------------------------------------------
    def _require_converted(self) -> None:
        if not self._converted:
            raise UsageError("call convert() first", hint="converter.convert(); converter.save(DIR)")

    def _input_specs(self) -> list[Any]:
        from trtforge.conversion.specs import InputSpec

        inputs = self._prepared.frozen.input_specs
        if not self._shapes:
            return []
        specs = []
        for k, tensor in enumerate(inputs):
            shapes = [s[k] for s in self._shapes]
            low = tuple(min(d) for d in zip(*shapes))
            high = tuple(max(d) for d in zip(*shapes))
            if low == high:
                specs.append(InputSpec(tensor.name, dtype=tensor.dtype, shape=low))
            else:
                specs.append(InputSpec(tensor.name, dtype=tensor.dtype, min=low, opt=high, max=high))
        return specs

    def _build(self) -> Any:
        import trtforge

        calibration = None
        if self._calibration is not None:
            names = [t.name for t in self._prepared.frozen.input_specs]
            calibration = [dict(zip(names, batch)) for batch in self._calibration]
        return trtforge.convert(
            self.input_saved_model_dir, backend="tf_trt", precision=self.precision,
            inputs=self._input_specs() or None, calibration=calibration, target=self.target, cache=False,
            workspace_bytes=int(self.params.max_workspace_size_bytes),
            min_block_size=max(int(self.params.minimum_segment_size), 1),
            options={"signature": self.signature, **({"int8_min_cosine": 0} if self.precision == "int8" else {})})


def as_program(built: Any) -> Any:
    """A program for an engine (one TensorRT stage) or the program itself."""
    from trtforge.program import Program

    return built if isinstance(built, Program) else Program.from_engine(built, framework="tensorflow")


class _Tensor(np.ndarray):
    """A numpy array with TensorFlow's ``.numpy()``, so ``infer(x)["out"].numpy()`` works."""

    def numpy(self) -> np.ndarray:
        return np.asarray(self)


class _Signature:
    """A loaded program called the way a SavedModel signature is: keyword inputs by name (or
    positional), a dict of outputs by name."""

    def __init__(self, program: Any, device: str) -> None:
        self.program = program
        self.device = device
        self.input_names = [i["name"] for i in program.inputs]

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if args and kwargs:
            raise UsageError("give the inputs either by position or by name, not both")
        given = dict(zip(self.input_names, args)) if args else kwargs
        feeds = {}
        for spec in self.program.inputs:
            if spec["name"] not in given:
                raise UsageError(f"missing input {spec['name']!r}", hint=f"inputs: {self.input_names}")
            value = given[spec["name"]]
            feeds[spec["name"]] = to_numpy(value).astype(spec["dtype"], copy=False)
        result = self.program.run(feeds, device=self.device)
        return {name: np.asarray(value).view(_Tensor) for name, value in result.items()}


class LoadedProgram:
    """What :func:`load` gives back: ``signatures["serving_default"]`` and ``__call__``."""

    def __init__(self, program: Any, device: str = "auto") -> None:
        self.program = program
        self.signatures = {"serving_default": _Signature(program, device)}

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self.signatures["serving_default"](*args, **kwargs)


def load(path: str | Path, *, device: str = "auto") -> LoadedProgram:
    """A saved program folder as a callable (``device``: "auto", "gpu" or "reference")."""
    from trtforge.program import Program

    return LoadedProgram(Program.load(path, check_compatibility=device == "gpu"), device)


def create_inference_graph(input_graph_def: Any = None, outputs: Sequence[str] | None = None,
                           max_batch_size: int = 1, max_workspace_size_bytes: int = DEFAULT_MAX_WORKSPACE_SIZE_BYTES,
                           precision_mode: str = TrtPrecisionMode.FP32, minimum_segment_size: int = 3,
                           is_dynamic_op: bool = False, maximum_cached_engines: int = 1,
                           input_saved_model_dir: str | None = None, input_saved_model_tags: Any = None,
                           input_saved_model_signature_key: str | None = None,
                           output_saved_model_dir: str | None = None, session_config: Any = None,
                           *, calibration_data: Any = None, target: str | None = None) -> Any:
    """TF1's one-call conversion: a frozen GraphDef (with ``outputs``) or a SavedModel in, a
    program out (saved to ``output_saved_model_dir`` when given). ``max_batch_size`` sets the
    batch range 1..max_batch_size of a dynamic batch; INT8 takes ``calibration_data``."""
    import trtforge

    from trtforge_tf_trt.convert import prepare
    from trtforge.conversion.specs import BuildSpec, InputSpec

    source = input_graph_def if input_graph_def is not None else input_saved_model_dir
    if source is None:
        raise UsageError("create_inference_graph needs input_graph_def or input_saved_model_dir")
    options: dict[str, Any] = {}
    if outputs:
        options["output_names"] = list(outputs)
    if input_saved_model_signature_key:
        options["signature"] = input_saved_model_signature_key
    prepared = prepare(source, BuildSpec(), options=options)
    specs = []
    for tensor in prepared.frozen.input_specs:
        shape = tensor.shape
        if shape and shape[0] is None and all(d is not None for d in shape[1:]) and max_batch_size > 1:
            rest = tuple(int(d) for d in shape[1:])
            specs.append(InputSpec(tensor.name, dtype=tensor.dtype, min=(1, *rest), opt=(max_batch_size, *rest),
                                   max=(max_batch_size, *rest)))
    precision = _precision(precision_mode)
    built = trtforge.convert(source, backend="tf_trt", precision=precision, inputs=specs or None,
                             calibration=calibration_data, target=target, cache=False,
                             workspace_bytes=int(max_workspace_size_bytes),
                             min_block_size=max(int(minimum_segment_size), 1),
                             options={**options, **({"int8_min_cosine": 0} if precision == "int8" else {})})
    program = as_program(built)
    if output_saved_model_dir:
        program.save(output_saved_model_dir)
    return program


__all__ = ["DEFAULT_TRT_CONVERSION_PARAMS", "LoadedProgram", "TrtConversionParams", "TrtGraphConverterV2",
           "TrtPrecisionMode", "as_program", "create_inference_graph", "load"]
