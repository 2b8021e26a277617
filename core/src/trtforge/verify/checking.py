"""``trtforge.check``: does the network a route built compute what the source model computes?

No GPU is needed: the engine's network snapshot runs on the CPU reference executor
(:mod:`trtforge.reference`) and the source model runs in its own framework on the same
inputs (given, or seeded random at each profile's opt shape). The report gives, per output,
max absolute and relative error, cosine similarity and, for classifier outputs, top-1/top-5
agreement, with pass/fail against a tolerance that depends on the engine's precision
(:data:`TOLERANCES`).

Layerwise debugging (:func:`debug_layers`) compares every intermediate tensor that can be
mapped back to the source and reports the first layer that diverges, with its source node.

Naming convention for routes (how intermediate tensors are mapped to the source)
--------------------------------------------------------------------------------
A network tensor is compared with a source value when its ``ITensor`` name is that value's
name in the source framework:

- ONNX (and anything a route turns into ONNX before parsing): the ONNX value name. NVIDIA's
  parser already keeps them; the source node is the ONNX node producing the value.
- torch (direct routes such as torch2trt): name each layer's output tensor after the
  ``torch.fx`` node it implements (``node.name``, e.g. ``layer1_0_conv1``) or, for a whole
  module, after its qualified module name (``layer1.0.conv1``). Tensors inside ONNX-export
  scopes (``/layer1/layer1.0/Add_output_0``) map to the innermost module whose qualified
  name is one of the scope's components (the last such tensor is the module's output).
- TensorFlow frozen graphs and Keras through tf2onnx: the TF tensor name (``op:0``); a Keras
  layer maps to the last network tensor inside its name scope (``model/<layer>/...``).
- Name helper tensors you add (casts, reshapes, constants) with a suffix after the source
  name, e.g. ``layer1_0_conv1/cast``, so they do not shadow the mapped tensor.
Set ``layer.metadata`` to the source node description as well; reports show it.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from trtforge.arrays import cosine_similarity, default_inputs, flatten_outputs, to_numpy
from trtforge.errors import CheckError, ModelSourceError, UsageError

log = logging.getLogger(__name__)


# --- tolerance policy -----------------------------------------------------------------
@dataclass(frozen=True)
class Tolerance:
    """What "computes the same" means at one precision.

    ``range_fraction``: max absolute error allowed, as a fraction of the reference output's
    range (max - min), so the bound scales with the output instead of being a magic
    absolute number. ``min_cosine``: smallest cosine similarity of the flattened outputs.
    ``min_top1``: agreement of the arg-max over the *decisive* samples of a classifier
    output (those whose reference top-1 beats the runner-up by more than twice the allowed
    error; a near-tie cannot be a meaningful disagreement).
    """

    range_fraction: float
    min_cosine: float
    min_top1: float

    def to_dict(self) -> dict[str, float]:
        return {"range_fraction": self.range_fraction, "min_cosine": self.min_cosine,
                "min_top1": self.min_top1}


# Measured on the model sweep (tests/core/test_executor_models.py: 10 torchvision and 2 Keras
# classifiers, random weights with settled BatchNorm): fp32 stays below ~1e-5 of the output
# range; fp16 rounds every layer's output and deep nets end 2-4% of the range away from fp32
# (onnxruntime's own fp16 run lands as far); bf16 keeps 3 fewer bits; int8 Q/DQ flips
# single quantization steps where float sums land near a rounding tie, and those flips grow
# through depth (cosine 0.96 at the end of inception_v3), so only direction and decisive
# top-1 stay tight.
TOLERANCES: dict[str, Tolerance] = {
    "fp32": Tolerance(range_fraction=1e-3, min_cosine=0.9999, min_top1=1.0),
    "fp16": Tolerance(range_fraction=5e-2, min_cosine=0.995, min_top1=1.0),
    "bf16": Tolerance(range_fraction=0.15, min_cosine=0.99, min_top1=0.95),
    "int8": Tolerance(range_fraction=0.3, min_cosine=0.95, min_top1=0.9),
}


def tolerance_for(precision: str | None) -> Tolerance:
    return TOLERANCES.get(str(precision or "fp32").lower(), TOLERANCES["fp32"])


_LOOSENESS = {"fp32": 0, "fp16": 1, "bf16": 1, "int8": 2}


def _precision(given: str | None, engine_precision: str | None, snapshot: Any) -> tuple[str, str | None]:
    """The precision whose tolerance applies (and a note); an unknown one is a usage error.

    The engine's precision is only claimed by its sidecar: where the network itself holds no
    tensor of that precision (an edited sidecar, or an "int8" engine without INT8), the
    network's own, stricter precision applies.
    """
    precision = str(given or engine_precision or snapshot_precision(snapshot)).lower()
    if precision not in TOLERANCES:
        what = "--precision" if given else "the engine's precision"
        raise UsageError(f"{what} {precision!r} has no tolerance policy",
                         hint=f"use one of {', '.join(TOLERANCES)}")
    if given or not engine_precision:
        return precision, None
    network = snapshot_precision(snapshot)
    if _LOOSENESS.get(precision, 0) > _LOOSENESS.get(network, 0):
        return network, (f"the sidecar claims {precision}, but the network holds no {precision} "
                         f"tensor: checked at the {network} tolerance")
    return precision, None


# --- metrics --------------------------------------------------------------------------
@dataclass
class OutputMetrics:
    name: str
    shape: tuple[int, ...]
    max_abs: float
    max_rel: float
    cosine: float
    value_range: float
    allowed_abs: float
    top1: float | None = None
    top5: float | None = None
    decisive: int | None = None
    samples: int | None = None
    passed: bool = True
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def compare_arrays(name: str, reference: Any, candidate: Any, tolerance: Tolerance,
                   classifier: bool | None = None) -> OutputMetrics:
    """Metrics of ``candidate`` against ``reference`` and the pass/fail verdict."""
    import numpy as np

    ref = np.asarray(reference, dtype=np.float64)
    got = _align(name, ref, np.asarray(candidate, dtype=np.float64))
    diff = np.abs(ref - got)
    finite = bool(np.isfinite(got).all())
    max_abs = float(diff.max()) if diff.size else 0.0
    peak = float(np.abs(ref).max()) if ref.size else 0.0
    value_range = float(ref.max() - ref.min()) if ref.size else 0.0
    scale = value_range if value_range > 0 else max(peak, 1e-12)
    allowed = tolerance.range_fraction * scale
    cosine = cosine_similarity(ref, got, when_zero=1.0 if max_abs <= allowed else 0.0)
    metrics = OutputMetrics(name=name, shape=tuple(ref.shape), max_abs=max_abs,
                            max_rel=max_abs / peak if peak > 0 else (0.0 if max_abs == 0 else math.inf),
                            cosine=cosine, value_range=value_range, allowed_abs=allowed)
    if classifier is None:
        classifier = ref.ndim == 2 and ref.shape[1] >= 2
    if classifier and ref.size:
        flat_ref = ref.reshape(-1, ref.shape[-1])
        flat_got = got.reshape(-1, ref.shape[-1])
        order = np.argsort(-flat_ref, axis=1)
        top1_ref, top1_got = order[:, 0], np.argmax(flat_got, axis=1)
        agree = top1_ref == top1_got
        if flat_ref.shape[1] > 1:
            margin = flat_ref[np.arange(len(order)), order[:, 0]] - flat_ref[np.arange(len(order)), order[:, 1]]
            decisive = margin > 2 * allowed
        else:
            decisive = np.ones(len(order), dtype=bool)
        k = min(5, flat_ref.shape[1])
        top5_got = np.argsort(-flat_got, axis=1)[:, :k]
        overlap = [len(set(a[:k]) & set(b)) / k for a, b in zip(order, top5_got)]
        metrics.top1 = float(agree.mean())
        metrics.top5 = float(np.mean(overlap))
        metrics.decisive = int(decisive.sum())
        metrics.samples = int(len(order))
        decisive_agreement = float(agree[decisive].mean()) if decisive.any() else 1.0
        if decisive_agreement < tolerance.min_top1:
            metrics.reasons.append(
                f"top-1 agrees on {decisive_agreement:.1%} of {metrics.decisive} decisive samples "
                f"(needs {tolerance.min_top1:.0%})")
    if not finite:
        metrics.reasons.append("the network output has NaN or Inf")
    if max_abs > allowed:
        metrics.reasons.append(f"max abs error {max_abs:.3g} > {allowed:.3g} "
                               f"({tolerance.range_fraction:g} x output range {scale:.3g})")
    if cosine < tolerance.min_cosine:
        metrics.reasons.append(f"cosine {cosine:.6f} < {tolerance.min_cosine}")
    metrics.passed = not metrics.reasons
    return metrics


_LAYOUTS = {3: [(0, 2, 1)], 4: [(0, 2, 3, 1), (0, 3, 1, 2)], 5: [(0, 2, 3, 4, 1), (0, 4, 1, 2, 3)]}


def _align(name: str, ref: Any, got: Any) -> Any:
    """Bring ``got`` to ``ref``'s shape: channels-first vs channels-last (TF sources through
    tf2onnx compute NCHW inside), or a reshape when only the rank differs."""
    import numpy as np

    if ref.ndim == got.ndim:
        fits = [got] if got.shape == ref.shape else []
        fits += [got.transpose(p) for p in _LAYOUTS.get(got.ndim, []) if got.transpose(p).shape == ref.shape]
        if fits:
            # When C == H == W both layouts fit; the one that matches is the one meant.
            return min(fits, key=lambda f: float(np.abs(f - ref).max()) if f.size else 0.0)
    elif ref.size == got.size:
        return got.reshape(ref.shape)
    raise CheckError(f"tensor {name!r}: the network gives shape {got.shape}, the source {ref.shape}",
                     hint="are the inputs in the same layout (NCHW/NHWC)?")


# --- reports --------------------------------------------------------------------------
@dataclass
class CheckReport:
    passed: bool
    precision: str
    tolerance: Tolerance
    source_kind: str
    outputs: list[OutputMetrics]
    inputs: dict[str, list[int]]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "precision": self.precision,
                "tolerance": self.tolerance.to_dict(), "source_kind": self.source_kind,
                "inputs": self.inputs, "outputs": [o.to_dict() for o in self.outputs],
                "notes": list(self.notes)}

    def __bool__(self) -> bool:
        return self.passed


@dataclass
class LayerComparison:
    index: int
    layer: str
    layer_type: str
    tensor: str
    source_node: str
    metrics: OutputMetrics

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "layer": self.layer, "type": self.layer_type,
                "tensor": self.tensor, "source_node": self.source_node,
                "max_abs": self.metrics.max_abs, "max_rel": self.metrics.max_rel,
                "cosine": self.metrics.cosine, "passed": self.metrics.passed,
                "reasons": list(self.metrics.reasons)}


@dataclass
class LayerwiseReport:
    check: CheckReport
    compared: list[LayerComparison]
    unmapped: int
    first_divergence: LayerComparison | None

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check.to_dict(), "compared": [c.to_dict() for c in self.compared],
                "unmapped_layers": self.unmapped,
                "first_divergence": self.first_divergence.to_dict() if self.first_divergence else None}


# --- source runners -------------------------------------------------------------------
@dataclass
class SourceValue:
    """A source value; ``alternatives`` are the values of the next few source nodes of the
    same shape, which a converter may have fused into this one (Conv+BatchNorm, ...)."""

    array: Any
    node: str
    alternatives: list["SourceValue"] = field(default_factory=list)


class SourceRunner:
    """Runs the source model on numpy inputs; subclasses per framework."""

    kind = "?"

    def run(self, feeds: dict[str, Any], order: Sequence[str]) -> list[Any]:
        raise CheckError(f"no runner for {self.kind}")

    def output_names(self) -> list[str] | None:
        return None

    def run_reduced(self, feeds: dict[str, Any], order: Sequence[str], precision: str) -> list[Any] | None:
        """The source run in ``precision`` itself (fp16/bf16), or None where it cannot be."""
        return None

    def intermediates(self, feeds: dict[str, Any], order: Sequence[str],
                      wanted: Sequence[str]) -> dict[str, SourceValue]:
        """Source values for the network tensor names in ``wanted`` that map to the source."""
        return {}


class OnnxRunner(SourceRunner):
    kind = "onnx"

    def __init__(self, model: Any) -> None:
        import onnx

        if isinstance(model, (str, Path)):
            try:
                self.model = onnx.load(str(model))
            except Exception as exc:  # protobuf's DecodeError and friends
                raise ModelSourceError(f"{model} is not a readable ONNX model ({type(exc).__name__}: {exc})",
                                       hint="the file is corrupt or not ONNX; export it again") from None
            if not self.model.HasField("graph") or not self.model.graph.output:
                raise ModelSourceError(f"{model} holds no ONNX graph",
                                       hint="the file is empty or not ONNX; export it again")
        else:
            self.model = model
        initializers = {i.name for i in self.model.graph.initializer}
        self.inputs = [i.name for i in self.model.graph.input if i.name not in initializers]

    def _session(self, model: Any) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # Unoptimized: keeps every value name and runs Q/DQ in float, as TensorRT defines it.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.log_severity_level = 3
        from trtforge.models.compat import ort_session

        return ort_session(model, options)

    def _feeds(self, feeds: dict[str, Any], order: Sequence[str]) -> dict[str, Any]:
        if all(name in feeds for name in self.inputs):
            return {name: feeds[name] for name in self.inputs}
        return {name: feeds[n] for name, n in zip(self.inputs, order)}

    def output_names(self) -> list[str]:
        return [o.name for o in self.model.graph.output]

    def run(self, feeds: dict[str, Any], order: Sequence[str]) -> list[Any]:
        return list(self._session(self.model).run(None, self._feeds(feeds, order)))

    def intermediates(self, feeds: dict[str, Any], order: Sequence[str],
                      wanted: Sequence[str]) -> dict[str, SourceValue]:
        import onnx

        producers = {out: f"{node.name or '?'} ({node.op_type})"
                     for node in self.model.graph.node for out in node.output}
        names = [n for n in wanted if n in producers]
        if not names:
            return {}
        model = onnx.ModelProto()
        model.CopyFrom(self.model)
        present = {o.name for o in model.graph.output}
        for name in names:
            if name not in present:
                model.graph.output.append(onnx.ValueInfoProto(name=name))
        session = self._session(model)
        outs = session.run(names, self._feeds(feeds, order))
        return {n: SourceValue(a, producers[n]) for n, a in zip(names, outs)}


class TorchRunner(SourceRunner):
    kind = "torch"

    def __init__(self, module: Any) -> None:
        self.module = module.eval()

    def _args(self, feeds: dict[str, Any], order: Sequence[str]) -> list[Any]:
        import torch

        device = next((p.device for p in self.module.parameters()), torch.device("cpu"))
        return [torch.from_numpy(feeds[n]).to(device) for n in order]

    def run(self, feeds: dict[str, Any], order: Sequence[str]) -> list[Any]:
        import torch

        with torch.no_grad():
            return flatten_outputs(self.module(*self._args(feeds, order)))

    def run_reduced(self, feeds: dict[str, Any], order: Sequence[str], precision: str) -> list[Any] | None:
        import copy

        import torch

        dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)
        if dtype is None:
            return None
        try:
            module = copy.deepcopy(self.module).to(dtype)
            args = [a.to(dtype) if a.is_floating_point() else a for a in self._args(feeds, order)]
            with torch.no_grad():
                return [a.astype("float32") if a.dtype.kind == "f" else a
                        for a in flatten_outputs(module(*args))]
        except Exception as exc:  # not every op has a reduced-precision CPU kernel
            log.info("the source model cannot run in %s here (%s)", precision, exc)
            return None

    def _record(self, graph_module: Any, args: list[Any]) -> dict[str, SourceValue]:
        import torch

        values: dict[str, SourceValue] = {}

        class Recorder(torch.fx.Interpreter):
            def run_node(self, node: Any) -> Any:
                result = super().run_node(node)
                arrays = flatten_outputs(result)
                if len(arrays) == 1 and node.op not in ("placeholder", "get_attr", "output"):
                    value = SourceValue(arrays[0], f"{node.name} ({node.op} {node.target})")
                    values[node.name] = value
                    if node.op == "call_module":
                        values[str(node.target)] = value
                return result

        with torch.no_grad():
            Recorder(graph_module).run(*args)
        return values

    def _traced(self, args: list[Any]) -> dict[str, SourceValue]:
        """Module-level names (``torch.fx`` symbolic trace): what direct routes name tensors."""
        import torch.fx

        return self._record(torch.fx.symbolic_trace(self.module), args)

    def _exported(self, args: list[Any]) -> dict[str, SourceValue]:
        """ATen-level names (``torch.export``): what the dynamo ONNX exporter names values."""
        from trtforge.models.compat import torch_after_tensorflow

        torch_after_tensorflow()  # torch.export imports triton, which crashes after TensorFlow
        import torch

        program = torch.export.export(self.module, tuple(args))
        return self._record(program.module(), args)

    def _decomposed(self, args: list[Any]) -> dict[str, SourceValue]:
        """Core-ATen names (``torch.export`` + decompositions), as the dynamo exporter's graph."""
        from trtforge.models.compat import torch_after_tensorflow

        torch_after_tensorflow()
        import torch

        program = torch.export.export(self.module, tuple(args)).run_decompositions()
        return self._record(program.module(), args)

    def _hooked(self, feeds: dict[str, Any], order: Sequence[str]) -> dict[str, SourceValue]:
        values: dict[str, SourceValue] = {}
        handles = []
        for name, sub in self.module.named_modules():
            if not name:
                continue

            def hook(_m: Any, _i: Any, out: Any, name: str = name, kind: str = type(sub).__name__) -> None:
                arrays = flatten_outputs(out)
                if len(arrays) == 1:
                    values[name] = SourceValue(arrays[0], f"{name} ({kind})")

            handles.append(sub.register_forward_hook(hook))
        try:
            self.run(feeds, order)
        finally:
            for handle in handles:
                handle.remove()
        return values

    def intermediates(self, feeds: dict[str, Any], order: Sequence[str],
                      wanted: Sequence[str]) -> dict[str, SourceValue]:
        args = self._args(feeds, order)
        best: dict[str, SourceValue] = {}
        best_score = -1
        for tracer in (self._traced, self._exported, self._decomposed):
            try:
                values = tracer(args)
            except Exception as exc:  # data-dependent control flow, unsupported ops
                log.info("torch %s failed (%s)", tracer.__name__.strip("_"), exc)
                continue
            mapped = _map_by_scope(values, wanted)
            score = sum(name in values for name in wanted) * 2 + len(mapped)
            if score > best_score:
                best, best_score = mapped, score
        if best_score < 0:
            best = _map_by_scope(self._hooked(feeds, order), wanted)
        return best


class KerasRunner(SourceRunner):
    kind = "keras"

    def __init__(self, model: Any) -> None:
        if isinstance(model, (str, Path)):
            import keras

            model = keras.models.load_model(str(model), compile=False)
        self.model = model

    def _args(self, feeds: dict[str, Any], order: Sequence[str]) -> list[Any]:
        args = [feeds[n] for n in order]
        shapes = [tuple(getattr(t, "shape", ())) for t in self.model.inputs]
        fixed = []
        for array, shape in zip(args, shapes):
            if array.ndim == 4 and len(shape) == 4 and shape[-1] is not None and \
                    array.shape[-1] != shape[-1] and array.shape[1] == shape[-1]:
                array = array.transpose(0, 2, 3, 1)  # the network takes NCHW, Keras NHWC
            fixed.append(array)
        return fixed

    def run(self, feeds: dict[str, Any], order: Sequence[str]) -> list[Any]:
        args = self._args(feeds, order)
        out = self.model(args if len(args) > 1 else args[0], training=False)
        return flatten_outputs(out)

    def intermediates(self, feeds: dict[str, Any], order: Sequence[str],
                      wanted: Sequence[str]) -> dict[str, SourceValue]:
        import keras

        layers = [layer for layer in self.model.layers if not isinstance(layer, keras.layers.InputLayer)]
        probe = keras.Model(self.model.inputs, [layer.output for layer in layers])
        args = self._args(feeds, order)
        outs = probe(args if len(args) > 1 else args[0], training=False)
        values = {}
        for layer, out in zip(layers, outs if isinstance(outs, (list, tuple)) else [outs]):
            arrays = flatten_outputs(out)
            if len(arrays) == 1:
                values[layer.name] = SourceValue(arrays[0], f"{layer.name} ({type(layer).__name__})")
        return _map_by_scope(values, wanted)


class SavedModelRunner(SourceRunner):
    kind = "tf-savedmodel"

    def __init__(self, path: Any) -> None:
        import tensorflow as tf

        self.loaded = tf.saved_model.load(str(path))
        signatures = getattr(self.loaded, "signatures", {})
        if "serving_default" not in signatures:
            raise CheckError(f"SavedModel {path} has no serving_default signature",
                             hint="export the model with a serving signature")
        self.fn = signatures["serving_default"]

    def run(self, feeds: dict[str, Any], order: Sequence[str]) -> list[Any]:
        import tensorflow as tf

        from trtforge.models.tf_sources import savedmodel_input_names

        names = savedmodel_input_names(self.fn)
        args = {n: tf.constant(feeds[o]) for n, o in zip(names, order)}
        out = self.fn(**args)
        return [out[k].numpy() for k in sorted(out)]


class FrozenGraphRunner(SourceRunner):
    """TF1 frozen GraphDef; network tensor names are TF tensor names (``op:0``)."""

    kind = "tf-frozen-graph"

    def __init__(self, graph_def: Any) -> None:
        import tensorflow as tf

        from trtforge.models.tf_graphs import read_graphdef

        if isinstance(graph_def, (str, Path)):
            graph_def = read_graphdef(graph_def, tf)
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.compat.v1.import_graph_def(graph_def, name="")

    def _tensor(self, name: str) -> Any:
        candidates = [name, f"{name}:0"] if ":" not in name else [name]
        for c in candidates:
            try:
                return self.graph.get_tensor_by_name(c)
            except (KeyError, ValueError):
                continue
        return None

    def fetch(self, feeds: dict[str, Any], names: Sequence[str]) -> list[Any]:
        import tensorflow as tf

        feed = {}
        for name, array in feeds.items():
            tensor = self._tensor(name)
            if tensor is None:
                raise CheckError(f"the frozen graph has no tensor {name!r} to feed",
                                 hint="name the network inputs after the graph's placeholders")
            feed[tensor] = array
        fetches = [self._tensor(n) for n in names]
        with tf.compat.v1.Session(graph=self.graph) as session:
            return list(session.run(fetches, feed_dict=feed))

    def run(self, feeds: dict[str, Any], order: Sequence[str]) -> list[Any]:
        raise CheckError("frozen graphs are run by output name")

    def intermediates(self, feeds: dict[str, Any], order: Sequence[str],
                      wanted: Sequence[str]) -> dict[str, SourceValue]:
        names = [n for n in wanted if self._tensor(n) is not None and n not in feeds]
        arrays = self.fetch(feeds, names)
        return {n: SourceValue(a, f"{self._tensor(n).op.name} ({self._tensor(n).op.type})")
                for n, a in zip(names, arrays)}


def _scope_parts(tensor_name: str) -> list[str]:
    parts = [p for p in tensor_name.replace(":", "/").split("/") if p]
    return parts[:-1] if len(parts) > 1 else parts


def _map_by_scope(values: dict[str, SourceValue], wanted: Sequence[str]) -> dict[str, SourceValue]:
    """Exact names first; otherwise a source name maps to the last tensor of its scope."""
    mapped: dict[str, SourceValue] = {}
    for name in wanted:
        if name in values:
            mapped[name] = values[name]
    taken = set(mapped)
    last_in_scope: dict[str, str] = {}
    for name in wanted:
        if name in taken:
            continue
        for part in _scope_parts(name):
            # Keras 3 scopes a layer "conv" as "conv_1" inside a traced model.
            stripped = re.sub(r"_\d+$", "", part)
            for key in (part, stripped):
                if key in values and key not in taken:
                    last_in_scope[key] = name
                    break
    for source_name, tensor in last_in_scope.items():
        mapped.setdefault(tensor, values[source_name])
    order = list({id(v): v for v in values.values()}.values())
    position = {id(v): i for i, v in enumerate(order)}
    for tensor, value in mapped.items():
        start = position.get(id(value), len(order))
        shape = getattr(value.array, "shape", None)
        value.alternatives = [v for v in order[start + 1:start + 4]
                              if getattr(v.array, "shape", None) == shape]
    return mapped


def runner_for(model: Any) -> SourceRunner:
    """The runner for the model's framework, chosen from trtforge's format detection."""
    from trtforge.models.sources import detect

    source = detect(model)
    kind, subject = source.kind, source.model
    if kind in ("onnx-file", "onnx-model"):
        return OnnxRunner(subject)
    if kind == "torch-module":
        return TorchRunner(subject)
    if kind in ("keras-model", "keras-file"):
        return KerasRunner(subject)
    if kind == "tf-savedmodel":
        return SavedModelRunner(subject)
    if kind in ("tf-frozen-graph", "tf-graphdef"):
        return FrozenGraphRunner(subject)
    raise CheckError(f"check cannot run {source.name} ({kind}) in its own framework",
                     hint="check supports torch modules, ONNX, Keras, SavedModels and frozen graphs")


# --- inputs and the snapshot ------------------------------------------------------------
def resolve_snapshot(engine_or_snapshot: Any) -> tuple[Any, str | None]:
    """(snapshot, precision) from a Snapshot, an Engine, an engine path or a snapshot path."""
    from trtforge.conversion.engine import Engine
    from trtforge.verify.snapshot import JSON_SUFFIX, Snapshot, engine_snapshot

    target = engine_or_snapshot
    if isinstance(target, Snapshot):
        return target, None
    if isinstance(target, (str, Path)):
        path = Path(target).expanduser()
        if path.name.endswith(JSON_SUFFIX):
            return Snapshot.load(path), None
        target = Engine.load(path, check_compatibility=False)
    if isinstance(target, Engine):
        snapshot = engine_snapshot(target)
        if snapshot is None:
            where = f" {target.path}" if target.path else ""
            raise CheckError(
                f"engine{where} has no network snapshot",
                hint="save it with engine.save(path, snapshot=True) or `trtforge convert ... -o PATH "
                "--snapshot`, or check right after convert()")
        return snapshot, target.precision
    raise UsageError(f"cannot check against {type(engine_or_snapshot).__name__}",
                     hint="pass an Engine, an engine path, or a Snapshot")


def snapshot_precision(snapshot: Any) -> str:
    dtypes = set(snapshot.tensor_dtypes().values())
    if "int8" in dtypes:
        return "int8"
    if "bfloat16" in dtypes:
        return "bf16"
    if "float16" in dtypes:
        return "fp16"
    return "fp32"


def _given_inputs(snapshot: Any, inputs: Any) -> dict[str, Any]:
    names = [s["name"] for s in snapshot.inputs]
    if isinstance(inputs, Mapping):
        missing = [n for n in names if n not in inputs]
        if missing:
            raise UsageError(f"no input values for {missing}", hint=f"the network inputs are {names}")
        return {n: to_numpy(inputs[n]) for n in names}
    items = [inputs] if hasattr(inputs, "shape") else list(inputs)
    if len(items) != len(names):
        raise UsageError(f"the network has {len(names)} input(s) ({names}), got {len(items)} value(s)",
                         hint="give one array per network input, or a dict by name")
    return {n: to_numpy(v) for n, v in zip(names, items)}


def _check_feeds(snapshot: Any, feeds: dict[str, Any]) -> dict[str, Any]:
    """Refuse given input values the network cannot take: non-numbers, NaN/Inf, wrong shapes."""
    import numpy as np

    profiles = {p.get("name"): p for p in snapshot.profiles}
    for spec in snapshot.inputs:
        name, array = spec["name"], feeds[spec["name"]]
        if array.dtype == object or array.dtype.kind not in "biuf":
            raise UsageError(f"input {name!r}: {array.dtype} values are not numbers",
                             hint=f"give a numeric array for {name!r} ({spec['dtype']})")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise UsageError(f"input {name!r} holds NaN or Inf values",
                             hint="give finite input values; a NaN makes every comparison fail")
        ranges = [(p["min"], p["max"]) for p in (profiles.get(name) or {}).get("profiles", [])]
        if not ranges:
            ranges = [([0 if d < 0 else d for d in spec["shape"]],
                       [(1 << 31) if d < 0 else d for d in spec["shape"]])]
        shape = tuple(array.shape)
        if not any(len(shape) == len(lo) and all(a <= d <= b for d, a, b in zip(shape, lo, hi))
                   for lo, hi in ranges):
            raise UsageError(f"input {name!r} has shape {shape}, the network takes {tuple(spec['shape'])}"
                             + (f" (profiles {ranges})" if profiles.get(name) else ""),
                             hint=f"give {name!r} in a shape the engine was built for")
    return feeds


# --- check and debug ------------------------------------------------------------------
def _run_both(model: Any, snapshot: Any, feeds: dict[str, Any], keep: Any = None
              ) -> tuple[SourceRunner, list[Any], dict[str, Any], Any, list[str]]:
    from trtforge.reference import Executor

    runner = model if isinstance(model, SourceRunner) else runner_for(model)
    result = Executor(snapshot).run(feeds, keep=keep)
    network_out = result.numpy()
    source_out, notes = _source_outputs(runner, snapshot, feeds, network_out)
    return runner, source_out, network_out, result, notes


def _source_outputs(runner: SourceRunner, io: Any, feeds: dict[str, Any],
                    network_out: Mapping[str, Any]) -> tuple[list[Any], list[str]]:
    """The source's outputs on ``feeds``, in the network's output order where the names match
    (frozen graphs are fetched by the network's output names)."""
    notes = []
    if isinstance(runner, FrozenGraphRunner):
        source_out = runner.fetch(feeds, list(network_out))
    else:
        source_out = runner.run(feeds, [s["name"] for s in io.inputs])
    names = runner.output_names() or []
    if len(source_out) != len(network_out):
        raise CheckError(f"the source model gives {len(source_out)} output(s), the network "
                         f"{len(network_out)}", hint="check that the route marks every model output")
    if names and set(names) == set(network_out):
        source_out = [source_out[names.index(n)] for n in network_out]
    elif names:
        notes.append("outputs matched by position (their names differ)")
    return source_out, notes


# A reduced-precision engine is also accepted when it stays within this factor of the error
# the source framework itself makes at that precision (random-weight deep nets lose more in
# fp16/bf16 than the fixed table allows, in PyTorch as much as in TensorRT).
NATIVE_BASELINE_PRECISIONS = ("fp16", "bf16")
NATIVE_BASELINE_FACTOR = 1.5


def native_tolerances(source_out: Sequence[Any], native: Sequence[Any] | None, precision: str,
                      base: Tolerance, notes: list[str]) -> list[Tolerance]:
    """Per-output tolerances widened to FACTOR x the source's own error at ``precision``
    (``native``: the source's outputs when run in that precision, None where it cannot)."""
    if native is None or len(native) != len(source_out):
        return [base] * len(source_out)
    widened = []
    for index, (ref, own) in enumerate(zip(source_out, native)):
        baseline = compare_arrays(f"output {index}", ref, own, base)
        scale = baseline.value_range or max(float(abs(baseline.max_abs)), 1e-12)
        tolerance = Tolerance(
            range_fraction=max(base.range_fraction, NATIVE_BASELINE_FACTOR * baseline.max_abs / scale),
            min_cosine=min(base.min_cosine, 1 - NATIVE_BASELINE_FACTOR * (1 - baseline.cosine)),
            min_top1=min(base.min_top1, baseline.top1 if baseline.top1 is not None else base.min_top1),
        )
        if tolerance != base:
            notes.append(
                f"output {index}: the source itself run in {precision} is off by "
                f"{baseline.max_abs:.3g} (cosine {baseline.cosine:.5f}); tolerance widened to "
                f"{NATIVE_BASELINE_FACTOR:g}x that: {tolerance.range_fraction:.3g} x range, "
                f"cosine >= {tolerance.min_cosine:.5f}")
        widened.append(tolerance)
    return widened


def _native_tolerances(runner: SourceRunner, feeds: dict[str, Any], order: Sequence[str],
                       precision: str, source_out: list[Any], base: Tolerance,
                       notes: list[str]) -> list[Tolerance]:
    """:func:`native_tolerances` with the source run in ``precision`` by ``runner``."""
    return native_tolerances(source_out, runner.run_reduced(feeds, order, precision), precision,
                             base, notes)


def verdict(source_out: Sequence[Any], network_out: Sequence[Any], precision: str, *,
            names: Sequence[str] | None = None, tolerance: Tolerance | None = None,
            reduced: Callable[[], Sequence[Any] | None] | None = None,
            notes: list[str] | None = None) -> list[OutputMetrics]:
    """The one pass/fail rule for model outputs, shared by check, debug_layers and compare.

    ``tolerance`` given: used as is. Otherwise the precision's table entry, widened for
    fp16/bf16 to the source's own error at that precision when ``reduced()`` (the source run
    in that precision; None where it cannot) has something to say.
    """
    if len(source_out) != len(network_out):
        raise CheckError(f"the source model gives {len(source_out)} output(s), the network "
                         f"{len(network_out)}", hint="check that the route marks every model output")
    notes = notes if notes is not None else []
    base = tolerance or tolerance_for(precision)
    tolerances = [base] * len(source_out)
    if tolerance is None and precision in NATIVE_BASELINE_PRECISIONS and reduced is not None:
        tolerances = native_tolerances(source_out, reduced(), precision, base, notes)
    names = list(names) if names is not None else [f"output {i}" for i in range(len(source_out))]
    return [compare_arrays(name, ref, got, tol)
            for name, ref, got, tol in zip(names, source_out, network_out, tolerances)]


def _report(runner: SourceRunner, io: Any, feeds: dict[str, Any], source_out: list[Any],
            network_out: Mapping[str, Any], precision: str, tolerance: Tolerance | None,
            notes: list[str]) -> CheckReport:
    """:func:`verdict` on the outputs as a CheckReport (``tolerance`` None: the precision's,
    widened to the source's own reduced-precision error)."""
    order = [s["name"] for s in io.inputs]
    metrics = verdict(source_out, list(network_out.values()), precision, names=list(network_out),
                      tolerance=tolerance, reduced=lambda: runner.run_reduced(feeds, order, precision),
                      notes=notes)
    return CheckReport(passed=all(m.passed for m in metrics), precision=precision,
                       tolerance=tolerance or tolerance_for(precision), source_kind=runner.kind,
                       outputs=metrics, inputs={n: list(a.shape) for n, a in feeds.items()}, notes=notes)


def _checked(model: Any, engine_or_snapshot: Any, inputs: Any, precision: str | None,
             tolerance: Tolerance | None, seed: int, keep: Any = None
             ) -> tuple[Any, SourceRunner, dict[str, Any], Any, CheckReport]:
    """What check and debug_layers share: the network and the source on the same inputs,
    their outputs judged by :func:`verdict`."""
    snapshot, engine_precision = resolve_snapshot(engine_or_snapshot)
    precision, claimed = _precision(precision, engine_precision, snapshot)
    feeds = _feeds_for(snapshot, inputs, seed)
    runner, source_out, network_out, result, notes = _run_both(model, snapshot, feeds, keep=keep)
    notes[:0] = [claimed] if claimed else []
    report = _report(runner, snapshot, feeds, source_out, network_out, precision, tolerance, notes)
    return snapshot, runner, feeds, result, report


def _feeds_for(io: Any, inputs: Any, seed: int) -> dict[str, Any]:
    """The given inputs, checked against the network's, or seeded ones at the opt shapes."""
    return _check_feeds(io, _given_inputs(io, inputs)) if inputs is not None else default_inputs(io, seed)


def check(model: Any, engine_or_snapshot: Any, inputs: Any = None, *, precision: str | None = None,
          tolerance: Tolerance | None = None, seed: int = 0) -> CheckReport:
    """Run ``model`` in its framework and the engine's network on the CPU; compare outputs.

    ``engine_or_snapshot``: an :class:`~trtforge.conversion.engine.Engine`, an engine path (with its
    saved snapshot), a snapshot path, or a :class:`~trtforge.verify.snapshot.Snapshot`. ``inputs``:
    arrays/tensors (one per network input, or a dict by name), or None for seeded random
    inputs at each profile's opt shape.
    """
    program = _as_program(engine_or_snapshot)
    if program is not None:
        return _checked_program(model, program, inputs, precision, tolerance, seed)[0]
    _, _, _, _, report = _checked(model, engine_or_snapshot, inputs, precision, tolerance, seed)
    return report


def _as_program(target: Any) -> Any:
    """A :class:`~trtforge.program.Program` for a program or a program folder, else None."""
    from trtforge.program import Program, is_program_dir

    if isinstance(target, Program):
        return target
    if isinstance(target, (str, Path)) and Path(target).expanduser().is_dir() and is_program_dir(target):
        return Program.load(target, check_compatibility=False)
    return None


def _checked_program(model: Any, program: Any, inputs: Any, precision: str | None,
                     tolerance: Tolerance | None, seed: int, keep: Any = None
                     ) -> tuple[CheckReport, SourceRunner, dict[str, Any], dict[str, Any]]:
    """check for a hybrid program: engine stages through the reference executor, framework
    stages in their framework, the outputs judged by the same :func:`verdict`."""
    precision = precision or program.precision
    feeds = _feeds_for(program, inputs, seed)
    runner = model if isinstance(model, SourceRunner) else runner_for(model)
    tensors: dict[str, Any] = {}
    network_out = program.run(feeds, device="reference", keep=tensors if keep else None)
    source_out, notes = _source_outputs(runner, program, feeds, network_out)
    notes.insert(0, f"hybrid program: {len(program.engine_stages)} engine stage(s) on the reference "
                 f"executor, {len(program.framework_stages)} framework stage(s) in "
                 f"{program.metadata.get('framework')}")
    report = _report(runner, program, feeds, source_out, network_out, precision, tolerance, notes)
    return report, runner, feeds, tensors


def debug_layers(model: Any, engine_or_snapshot: Any, inputs: Any = None, *,
                 precision: str | None = None, tolerance: Tolerance | None = None,
                 seed: int = 0) -> LayerwiseReport:
    """Compare every network tensor that maps to a source value; find the first divergence."""
    program = _as_program(engine_or_snapshot)
    if program is not None:
        report, runner, feeds, tensors = _checked_program(model, program, inputs, precision,
                                                          tolerance, seed, keep=True)
        layers = [layer for stage in program.engine_stages for layer in stage.snapshot().layers]
        return _layerwise(report, runner, feeds, [s["name"] for s in program.inputs], layers, tensors)
    snapshot, runner, feeds, result, report = _checked(model, engine_or_snapshot, inputs, precision,
                                                       tolerance, seed, keep="all")
    return _layerwise(report, runner, feeds, [s["name"] for s in snapshot.inputs], snapshot.layers,
                      result.tensors)


def _layerwise(report: CheckReport, runner: SourceRunner, feeds: dict[str, Any], order: list[str],
               layers: Sequence[Any], tensors: Mapping[str, Any]) -> LayerwiseReport:
    """Every network tensor that maps to a source value, compared; the first that diverges."""
    tolerance = report.tolerance
    produced = [(i, layer, out["name"]) for i, layer in enumerate(layers)
                for out in layer["outputs"] if out["dtype"] not in ("int32", "int64", "bool")]
    wanted = [name for _, _, name in produced]
    values = runner.intermediates(feeds, order, wanted)
    compared: list[LayerComparison] = []
    mapped_layers = set()
    for index, layer, name in produced:
        source = values.get(name)
        if source is None or name not in tensors:
            continue
        got = to_numpy(tensors[name])  # program stages hand torch tensors and numpy arrays
        try:
            metrics = compare_arrays(name, source.array, got, tolerance, classifier=False)
        except CheckError as exc:
            log.info("layer %s: %s", layer["name"], exc.message)
            continue
        node = source.node or layer.get("metadata", "")
        for alternative in source.alternatives if not metrics.passed else ():
            fused = compare_arrays(name, alternative.array, got, tolerance, classifier=False)
            if fused.passed:
                metrics, node = fused, f"{alternative.node} (fused into {source.node})"
                break
        mapped_layers.add(index)
        compared.append(LayerComparison(index, layer["name"], layer["type"], name, node, metrics))
    first = next((c for c in compared if not c.metrics.passed), None)
    if not compared:
        report.notes.append(f"no network tensor maps to a {runner.kind} value by name; see "
                            f"trtforge.check's naming convention")
    return LayerwiseReport(check=report, compared=compared,
                           unmapped=len(layers) - len(mapped_layers), first_divergence=first)
