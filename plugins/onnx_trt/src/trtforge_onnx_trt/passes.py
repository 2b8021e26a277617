"""Preparation passes run on the ONNX model before TensorRT's parser sees it.

Each pass is small, named, on by default and can be disabled (``--disable-pass NAME``). A pass
takes a ``ModelProto`` and returns ``(model, change)``, where ``change`` says what it did in
one line (empty when it changed nothing); the runner logs it. Constant folding and shape
inference are onnxslim's job; the passes here only add what it does not do.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from trtforge.errors import ConversionError, UsageError

from trtforge_onnx_trt.opsets import default_opset

log = logging.getLogger(__name__)

# Q/DQ with per-channel axes, the FP16 converter and onnxruntime's quantizer need opset 13+.
MIN_OPSET = 13
UPGRADE_OPSET = 17


@dataclass(frozen=True)
class Pass:
    name: str
    description: str
    run: Callable[[Any], tuple[Any, str]]


@dataclass(frozen=True)
class PassResult:
    name: str
    change: str
    nodes_before: int
    nodes_after: int
    seconds: float


def _op_counts(nodes: Sequence[Any]) -> str:
    counts = Counter(n.op_type for n in nodes)
    return ", ".join(f"{op} x{k}" for op, k in counts.most_common())


# --- opset-upgrade ------------------------------------------------------------------------
def upgrade_opset(model: Any) -> tuple[Any, str]:
    version = default_opset(model)
    if version >= MIN_OPSET:
        return model, ""
    from onnx import version_converter

    upgraded = version_converter.convert_version(model, UPGRADE_OPSET)
    return upgraded, f"opset {version} -> {UPGRADE_OPSET}"


# --- onnxslim -----------------------------------------------------------------------------
def slim(model: Any) -> tuple[Any, str]:
    import onnxslim

    before = len(model.graph.node)
    ops_before = Counter(n.op_type for n in model.graph.node)
    slimmed = onnxslim.slim(model)
    if slimmed is None:
        # The route's own failure, not the user's arguments: backend="auto" tries the next route.
        raise ConversionError("onnxslim could not process the model", route="onnx_trt",
                              hint="disable the pass with --disable-pass onnxslim")
    after = len(slimmed.graph.node)
    ops_after = Counter(n.op_type for n in slimmed.graph.node)
    removed = ops_before - ops_after
    added = ops_after - ops_before
    if before == after and not removed and not added:
        return slimmed, ""
    parts = [f"{before} -> {after} nodes"]
    if removed:
        parts.append("removed " + ", ".join(f"{op} x{k}" for op, k in removed.most_common()))
    if added:
        parts.append("added " + ", ".join(f"{op} x{k}" for op, k in added.most_common()))
    return slimmed, "; ".join(parts)


# --- fold-flatten-shape -------------------------------------------------------------------
class _LazyArrays(dict):
    """``name -> numpy array`` for constant tensors, decoded when looked up."""

    def __init__(self, tensors: dict[str, Any]) -> None:
        super().__init__()
        self._tensors = tensors

    def __contains__(self, name: object) -> bool:
        return name in self._tensors

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[name] if name in self._tensors else default

    def __getitem__(self, name: str) -> Any:
        if not super().__contains__(name):
            from onnx import numpy_helper

            super().__setitem__(name, numpy_helper.to_array(self._tensors[name]))
        return super().__getitem__(name)


class _Graph:
    """Producers and constant values of one ONNX graph, for pattern matching."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.producer = {o: n for n in model.graph.node for o in n.output}
        # Tensors are decoded on first use: decoding every weight costs more than the pass.
        self._tensors: dict[str, Any] = {i.name: i for i in model.graph.initializer}
        for node in model.graph.node:
            if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
                self._tensors[node.output[0]] = node.attribute[0].t
        self.constants = _LazyArrays(self._tensors)

    def node(self, tensor: str, op: str) -> Any | None:
        node = self.producer.get(tensor)
        return node if node is not None and node.op_type == op else None

    def attr(self, node: Any, name: str, default: Any = None) -> Any:
        from onnx import helper

        for a in node.attribute:
            if a.name == name:
                return helper.get_attribute_value(a)
        return default


def _copied_dim(g: _Graph, part: str, data: str, opset: int) -> int | None:
    """If ``part`` is ``Unsqueeze(Gather(Shape(data), i))``, return ``i``; else None."""
    unsqueeze = g.node(part, "Unsqueeze")
    if unsqueeze is None:
        return None
    axes = g.attr(unsqueeze, "axes") if opset < 13 else (
        g.constants.get(unsqueeze.input[1]) if len(unsqueeze.input) > 1 else None)
    if axes is None or [int(a) for a in list(getattr(axes, "flat", axes))] != [0]:
        return None
    gather = g.node(unsqueeze.input[0], "Gather")
    if gather is None or int(g.attr(gather, "axis", 0)) != 0:
        return None
    index = g.constants.get(gather.input[1])
    shape = g.node(gather.input[0], "Shape")
    if index is None or index.ndim != 0 or shape is None or shape.input[0] != data:
        return None
    if g.attr(shape, "start", 0) not in (0, None) or g.attr(shape, "end") is not None:
        return None
    return int(index)


def fold_flatten_shape(model: Any) -> tuple[Any, str]:
    """``Reshape(x, Concat(Unsqueeze(Gather(Shape(x), i)), ..., const))`` -> ``Reshape(x, const)``.

    Where dimension ``i`` of ``x`` lands at position ``i`` of the new shape, ``0`` (copy the
    input's dimension, Reshape's default ``allowzero=0``) says the same thing as a constant,
    so the shape arithmetic (the seed's ``x.view(x.size(0), -1)``) disappears and the shape
    tensor becomes a constant TensorRT reads at build time.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    g = _Graph(model)
    opset = default_opset(model)
    folded = []
    for node in model.graph.node:
        if node.op_type != "Reshape" or int(g.attr(node, "allowzero", 0)) != 0:
            continue
        concat = g.node(node.input[1], "Concat")
        if concat is None:
            continue
        values: list[int] = []
        for part in concat.input:
            if part in g.constants:
                const = np.asarray(g.constants[part]).reshape(-1)
                if const.dtype.kind != "i":
                    break
                values.extend(int(v) for v in const)
                continue
            dim = _copied_dim(g, part, node.input[0], opset)
            if dim is None or dim != len(values):
                break
            values.append(0)
        else:
            if sum(v == -1 for v in values) > 1:
                continue
            name = f"{node.name or node.output[0]}_folded_shape"
            model.graph.initializer.append(numpy_helper.from_array(np.array(values, np.int64), name))
            node.input[1] = name
            folded.append(f"{node.name or node.output[0]} -> {values}")
    if not folded:
        return model, ""
    _, removed = _remove_dead(model)
    return model, f"folded {len(folded)} Reshape shape(s) ({'; '.join(folded)})" + (
        f", removed {removed}" if removed else "")


# --- remove-dead-nodes ----------------------------------------------------------------------
def _remove_dead(model: Any) -> tuple[Any, str]:
    """Drop nodes whose outputs nobody reads, and initializers nobody uses."""
    graph = model.graph
    needed = {o.name for o in graph.output}
    keep = []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output if o):
            keep.append(node)
            needed.update(i for i in node.input if i)
            needed.update(_subgraph_inputs(node))
    keep.reverse()
    dropped = [n for n in graph.node if not any(n is k for k in keep)]
    if dropped:
        del graph.node[:]
        graph.node.extend(keep)
    unused = [i for i in graph.initializer if i.name not in needed]
    for init in unused:
        graph.initializer.remove(init)
    parts = []
    if dropped:
        parts.append(f"{len(dropped)} dead node(s) ({_op_counts(dropped)})")
    if unused:
        parts.append(f"{len(unused)} unused initializer(s)")
    return model, ", ".join(parts)


def _subgraph_inputs(node: Any) -> set[str]:
    names: set[str] = set()
    for attr in node.attribute:
        graphs = list(attr.graphs) + ([attr.g] if attr.HasField("g") else [])
        for sub in graphs:
            for inner in sub.node:
                names.update(i for i in inner.input if i)
                names.update(_subgraph_inputs(inner))
    return names


def remove_dead_nodes(model: Any) -> tuple[Any, str]:
    """Bypass Identity nodes (keeping graph output names) and drop dead nodes."""
    graph = model.graph
    outputs = {o.name for o in graph.output}
    renames: dict[str, str] = {}
    identities = []
    for node in graph.node:
        if node.op_type != "Identity" or node.output[0] in outputs:
            continue
        source = node.input[0]
        while source in renames:
            source = renames[source]
        renames[node.output[0]] = source
        identities.append(node)
    if identities:
        for node in graph.node:
            node.input[:] = [renames.get(i, i) for i in node.input]
        for node in identities:
            graph.node.remove(node)
    _, dead = _remove_dead(model)
    parts = ([f"bypassed {len(identities)} Identity node(s)"] if identities else []) + ([dead] if dead else [])
    return model, ", ".join(parts)


PASSES: tuple[Pass, ...] = (
    Pass("opset-upgrade", f"upgrade models older than opset {MIN_OPSET} to opset {UPGRADE_OPSET} "
         "(per-channel Q/DQ and the FP16 converter need it)", upgrade_opset),
    Pass("onnxslim", "onnxslim: constant folding, shape inference, fusions, dead-node and "
         "common-subexpression elimination", slim),
    Pass("fold-flatten-shape", "fold Shape->Gather->Unsqueeze->Concat->Reshape (e.g. "
         "x.view(x.size(0), -1)) into a constant Reshape shape where the dimensions are copied "
         "in place", fold_flatten_shape),
    Pass("remove-dead-nodes", "bypass Identity nodes and drop nodes and initializers nobody uses",
         remove_dead_nodes),
)


def pass_names() -> list[str]:
    return [p.name for p in PASSES]


def describe() -> list[tuple[str, str]]:
    return [(p.name, p.description) for p in PASSES]


def check_disabled(disabled: Sequence[str]) -> None:
    unknown = sorted(set(disabled) - set(pass_names()))
    if unknown:
        raise UsageError(f"unknown pass(es) {', '.join(unknown)}",
                         hint=f"passes of onnx_trt: {', '.join(pass_names())}")


def run_passes(model: Any, disabled: Sequence[str] = ()) -> tuple[Any, list[PassResult]]:
    """Run every pass not in ``disabled``, in order; log and return what each changed."""
    import time

    check_disabled(disabled)
    results = []
    for item in PASSES:
        if item.name in disabled:
            log.info("pass %s: disabled", item.name)
            continue
        before = len(model.graph.node)
        start = time.perf_counter()
        model, change = item.run(model)
        seconds = time.perf_counter() - start
        log.info("pass %s: %s (%.2f s)", item.name, change or "no change", seconds)
        results.append(PassResult(item.name, change, before, len(model.graph.node), seconds))
    return model, results
