"""The frozen graph as converters see it: nodes in topological order, decoded attributes,
static shapes at the network's input shapes, and which tensors are constants.

Knowing shapes and constants *before* any layer is built is what lets every converter's
validator decide (and the coverage report list every unsupported node at once). Shapes come
from TensorFlow's own shape inference with the Placeholders set to the shapes the network
will have (a dynamic dimension stays unknown); a ``Shape`` of a fully known tensor is a
constant, so the usual Shape -> StridedSlice -> Pack -> Reshape chains fold away.
Constants are evaluated by TensorFlow itself, in one run, so no converter needs a numpy twin
of a TensorFlow op.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from trtforge.errors import ConversionError
# tensor_ref is core's; converter modules import it from here.
from trtforge.models.tf_graphs import canonical_tensor, pruned_function, run_on_cpu, tensor_ref

from trtforge_tf_trt import ROUTE

log = logging.getLogger(__name__)

# Ops that are never folded into constants even when all their inputs are constant.
_NEVER_FOLDED = frozenset({
    "Placeholder", "PlaceholderWithDefault", "RandomUniform", "RandomStandardNormal",
    "TruncatedNormal", "RandomUniformInt", "Multinomial", "VarHandleOp", "ReadVariableOp",
    "NoOp", "Assert", "PrintV2",
})
# Ops whose value depends only on the static shape of their input.
_SHAPE_OPS = frozenset({"Shape", "Size", "Rank", "ShapeN"})


@dataclass
class TfNode:
    """One node: its op, data inputs (``node:index``), decoded attributes, static facts."""

    name: str
    op: str
    inputs: list[str]
    proto: Any
    graph: "TfGraph" = field(repr=False)

    def attr(self, key: str, default: Any = None) -> Any:
        """The attribute decoded to Python (bytes -> str, lists -> lists, dtypes -> names)."""
        if key not in self.proto.attr:
            return default
        return _decode_attr(self.proto.attr[key])

    def has_attr(self, key: str) -> bool:
        return key in self.proto.attr

    def input_const(self, index: int) -> np.ndarray | None:
        """The constant value of input ``index``, or None if it is computed at run time."""
        return self.graph.constant(self.inputs[index])

    def input_shape(self, index: int) -> tuple[int | None, ...] | None:
        return self.graph.shape(self.inputs[index])

    def input_dtype(self, index: int) -> str:
        return self.graph.dtype(self.inputs[index])

    def output_shape(self, index: int = 0) -> tuple[int | None, ...] | None:
        return self.graph.shape(f"{self.name}:{index}")

    def output_dtype(self, index: int = 0) -> str:
        return self.graph.dtype(f"{self.name}:{index}")

    @property
    def num_outputs(self) -> int:
        return self.graph.output_counts.get(self.name, 1)

    def describe(self) -> str:
        return f"{self.name} ({self.op})"


class TfGraph:
    """A frozen GraphDef analysed for conversion (see the module docstring)."""

    def __init__(self, graph_def: Any, inputs: Sequence[str], outputs: Sequence[str],
                 input_shapes: Mapping[str, Sequence[int]]) -> None:
        """``input_shapes``: network shapes by input tensor name (-1 = dynamic)."""
        self.graph_def = graph_def
        self.inputs = [canonical_tensor(t) for t in inputs]
        self.outputs = [canonical_tensor(t) for t in outputs]
        self.nodes: dict[str, TfNode] = {}
        for proto in graph_def.node:
            data = [i for i in proto.input if not i.startswith("^")]
            self.nodes[proto.name] = TfNode(proto.name, proto.op, [canonical_tensor(i) for i in data], proto,
                                            self)
        self._shapes: dict[str, tuple[int | None, ...] | None] = {}
        self._dtypes: dict[str, str] = {}
        self.output_counts: dict[str, int] = {}
        self._infer(input_shapes)
        self.order = self._needed_in_order()
        self.constants: dict[str, np.ndarray] = {}
        self.const_nodes: set[str] = set()
        self._fold()

    # --- queries -------------------------------------------------------------------
    def shape(self, tensor: str) -> tuple[int | None, ...] | None:
        return self._shapes.get(canonical_tensor(tensor))

    def dtype(self, tensor: str) -> str:
        return self._dtypes.get(canonical_tensor(tensor), "float32")

    def constant(self, tensor: str) -> np.ndarray | None:
        return self.constants.get(canonical_tensor(tensor))

    def is_constant(self, tensor: str) -> bool:
        return canonical_tensor(tensor) in self.constants or tensor_ref(tensor)[0] in self.const_nodes

    def consumed_outputs(self, node: str) -> set[int]:
        """Which outputs of ``node`` other nodes (or the graph's outputs) read."""
        used = {tensor_ref(t)[1] for t in self.outputs if tensor_ref(t)[0] == node}
        for name in self.order:
            for i in self.nodes[name].inputs:
                ref, index = tensor_ref(i)
                if ref == node:
                    used.add(index)
        return used

    def converted_nodes(self) -> list[TfNode]:
        """The nodes TensorRT layers must compute: needed, not inputs, not constants."""
        inputs = {tensor_ref(t)[0] for t in self.inputs}
        live: set[str] = set()
        stack = [tensor_ref(t)[0] for t in self.outputs]
        while stack:  # only through computed nodes: a constant's inputs need no layers
            name = stack.pop()
            if name in live or name in inputs or name in self.const_nodes:
                continue
            live.add(name)
            stack.extend(tensor_ref(i)[0] for i in self.nodes[name].inputs)
        return [self.nodes[n] for n in self.order if n in live]

    # --- analysis ------------------------------------------------------------------
    def _infer(self, input_shapes: Mapping[str, Sequence[int]]) -> None:
        import tensorflow as tf

        shaped = tf.compat.v1.GraphDef()
        shaped.CopyFrom(self.graph_def)
        for proto in shaped.node:
            tensor = f"{proto.name}:0"
            if tensor in input_shapes and proto.op == "Placeholder":
                dims = input_shapes[tensor]
                proto.attr["shape"].shape.Clear()
                for d in dims:
                    proto.attr["shape"].shape.dim.add().size = int(d) if int(d) >= 0 else -1
        graph = tf.Graph()
        with graph.as_default():
            tf.graph_util.import_graph_def(shaped, name="")
        for op in graph.get_operations():
            self.output_counts[op.name] = len(op.outputs)
            for t in op.outputs:
                self._dtypes[t.name] = t.dtype.name
                self._shapes[t.name] = None if t.shape.rank is None else tuple(t.shape.as_list())
        self._tf_graph = graph

    def _needed_in_order(self) -> list[str]:
        """Nodes the outputs depend on through data edges, in topological order."""
        needed: set[str] = set()
        stack = [tensor_ref(t)[0] for t in self.outputs]
        inputs = {tensor_ref(t)[0] for t in self.inputs}
        while stack:
            name = stack.pop()
            if name in needed:
                continue
            if name not in self.nodes:
                raise ConversionError(f"the graph has no node {name!r}", route=ROUTE)
            needed.add(name)
            if name not in inputs:
                stack.extend(tensor_ref(i)[0] for i in self.nodes[name].inputs)
        order: list[str] = []
        state: dict[str, int] = {}
        for root in [tensor_ref(t)[0] for t in self.outputs]:
            work = [(root, False)]
            while work:
                name, done = work.pop()
                if done:
                    state[name] = 2
                    order.append(name)
                    continue
                if state.get(name):
                    continue
                state[name] = 1
                work.append((name, True))
                if name not in inputs:
                    for i in reversed(self.nodes[name].inputs):
                        child = tensor_ref(i)[0]
                        if not state.get(child):
                            work.append((child, False))
        return order

    def _fold(self) -> None:
        """Mark constant nodes and evaluate, in one TensorFlow run, those a converter reads."""
        from tensorflow.python.framework import tensor_util

        inputs = {tensor_ref(t)[0] for t in self.inputs}
        shape_values: dict[str, np.ndarray] = {}
        for name in self.order:
            node = self.nodes[name]
            if name in inputs:
                continue
            if node.op == "Const":
                self.const_nodes.add(name)
                self.constants[f"{name}:0"] = tensor_util.MakeNdarray(node.proto.attr["value"].tensor)
            elif node.op in _SHAPE_OPS and self._static_shape_value(node) is not None:
                self.const_nodes.add(name)
                for k, value in enumerate(self._static_shape_value(node)):
                    shape_values[f"{name}:{k}"] = value
            elif node.op not in _NEVER_FOLDED and node.inputs and all(
                    tensor_ref(i)[0] in self.const_nodes for i in node.inputs):
                self.const_nodes.add(name)
        self.constants.update(shape_values)
        wanted = sorted({i for n in self.order if n not in self.const_nodes for i in self.nodes[n].inputs
                         if tensor_ref(i)[0] in self.const_nodes and i not in self.constants}
                        | {t for t in self.outputs if tensor_ref(t)[0] in self.const_nodes
                           and t not in self.constants})
        if wanted:
            self.constants.update(self._evaluate(wanted, shape_values))

    def _static_shape_value(self, node: TfNode) -> list[np.ndarray] | None:
        dtype = np.int64 if node.attr("out_type", "int32") == "int64" else np.int32
        shapes = [self.shape(i) for i in node.inputs]
        if any(s is None or any(d is None or d < 0 for d in s) for s in shapes):
            return None
        if node.op == "Shape":
            return [np.array(shapes[0], dtype)]
        if node.op == "ShapeN":
            return [np.array(s, dtype) for s in shapes]
        if node.op == "Size":
            return [np.array(int(np.prod(shapes[0])), dtype)]
        return [np.array(len(shapes[0]), np.int32)]  # Rank

    def _evaluate(self, tensors: list[str], fed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        try:
            values = run_on_cpu(pruned_function(self.graph_def, list(fed), tensors), list(fed.values()))
        except Exception as exc:
            raise ConversionError(f"TensorFlow could not evaluate the graph's constant parts "
                                  f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
                                  route=ROUTE) from exc
        return {t: np.asarray(v) for t, v in zip(tensors, values)}


def _decode_attr(value: Any) -> Any:
    from tensorflow.python.framework import dtypes, tensor_util

    kind = value.WhichOneof("value")
    if kind == "s":
        return value.s.decode()
    if kind in ("i", "f", "b"):
        return getattr(value, kind)
    if kind == "type":
        return dtypes.as_dtype(value.type).name
    if kind == "shape":
        return None if value.shape.unknown_rank else [d.size for d in value.shape.dim]
    if kind == "tensor":
        return tensor_util.MakeNdarray(value.tensor)
    if kind == "list":
        lst = value.list
        if lst.i:
            return list(lst.i)
        if lst.f:
            return list(lst.f)
        if lst.s:
            return [s.decode() for s in lst.s]
        if lst.type:
            return [dtypes.as_dtype(t).name for t in lst.type]
        if lst.b:
            return list(lst.b)
        return []
    if kind == "func":
        return value.func.name
    return None


def iter_ops(graph: TfGraph) -> Iterable[str]:
    return (graph.nodes[n].op for n in graph.order)
