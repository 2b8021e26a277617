"""tf_trt's half of hybrid programs: the frozen graph as core's ``GraphNode`` s, and the two
builders (a TensorRT network for a segment, a TensorFlow GraphDef stage for a segment).

Program tensor names: a node's first output is the node's name, a further output ``node:k``
(a small cheap pseudo-node of the same side, so multi-output ops such as Split cross a
boundary output by output); the model's inputs and outputs keep their user-facing names (an
output is a cheap identity pseudo-node named after it). Constants never cross a boundary:
each stage holds the ones it reads.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trtforge.errors import ConversionError
from trtforge.program.partition import GraphNode, Segment, value_size
from trtforge.conversion.specs import InputSpec, ShapeProfile
from trtforge.models.tf_graphs import canonical_tensor

from trtforge_tf_trt import ROUTE
from trtforge_tf_trt.convert import Prepared, add_input, convert_nodes, mark_output
from trtforge_tf_trt.graph import TfGraph
from trtforge_tf_trt.network import NetworkContext
from trtforge_tf_trt.precision import PrecisionPolicy

log = logging.getLogger(__name__)

# Data movement: a segment made of these alone is not worth an engine.
CHEAP_OPS = frozenset({
    "Identity", "IdentityN", "StopGradient", "Snapshot", "Reshape", "Squeeze", "ExpandDims",
    "Transpose", "ConcatV2", "Pack", "Unpack", "Split", "SplitV", "StridedSlice", "Slice", "Cast",
    "Shape", "Fill", "Tile", "GatherV2", "Pad", "PadV2", "MirrorPad", "Output",
})
OUTPUT_OP = "Output"  # the pseudo-node naming a model output or a further node output


@dataclass
class TfPartialGraph:
    """The frozen graph as core partitions it (``trtforge.program.route.PartialGraph``)."""

    prepared: Prepared
    nodes: list[GraphNode]
    outputs: list[str]
    inputs: list[InputSpec]
    framework: str = "tensorflow"
    tensors: dict[str, str] = field(default_factory=dict)  # program tensor -> graph tensor
    dtypes: dict[str, str] = field(default_factory=dict)  # program tensor -> dtype
    node_of: dict[str, str] = field(default_factory=dict)  # program node -> TensorFlow node

    @property
    def graph(self) -> TfGraph:
        return self.prepared.graph

    def output_dtypes(self) -> dict[str, str]:
        return {name: self.dtypes.get(name, "float32") for name in self.outputs}

    # --- TensorRT segments ------------------------------------------------------------
    def populate_segment(self, network: Any, segment: Segment, spec: Any, ctx: Any) -> list[InputSpec]:
        graph = self.graph
        policy = PrecisionPolicy.of(spec.precision)
        net = NetworkContext(network, ctx.tensorrt, policy, None)
        net.reserve(segment.outputs)
        values: dict[str, Any] = {}
        specs = []
        for name in segment.inputs:
            boundary = self.boundary_spec(name)
            values[canonical_tensor(self.tensors[name])] = add_input(net, name, boundary.dtype,
                                                                     boundary.network_shape())
            specs.append(boundary)
        members = {self.node_of[n] for n in segment.names if n in self.node_of}
        nodes = [n for n in graph.converted_nodes() if n.name in members]
        convert_nodes(net, graph, self.prepared.report.chosen, nodes, values)
        for name in segment.outputs:
            tensor = canonical_tensor(self.tensors[name])
            value = values.get(tensor)
            if value is None:
                value = graph.constant(tensor)
            if value is None:
                raise ConversionError(f"program segment output {name} ({tensor}) was not computed",
                                      route=ROUTE, hint="this is a bug in tf_trt's partitioning")
            mark_output(net, name, self.dtypes[name], value)
        ctx.keepalive.append(net.keepalive)
        return specs

    def boundary_spec(self, name: str) -> InputSpec:
        """Shape, dtype and profiles of a tensor entering an engine: a model input's own spec,
        else TensorFlow's shape at the network's input shapes (a dynamic batch follows the
        model inputs' batch range)."""
        for spec in self.inputs:
            if spec.name == name:
                return spec
        shape = self.graph.shape(self.tensors[name])
        dtype = self.dtypes[name]
        if shape is None:
            raise ConversionError(f"program boundary {name} has an unknown rank", route=ROUTE,
                                  hint="keep this part of the model in one stage (framework_ops)")
        if all(d is not None and d >= 0 for d in shape):
            return InputSpec(name=name, dtype=dtype, shape=tuple(int(d) for d in shape))
        batch = [s for s in self.inputs if s.is_dynamic]
        if not batch or any(d is None for d in shape[1:]):
            raise ConversionError(f"program boundary {name} has the dynamic shape {shape}, which no "
                                  "model input's batch range explains", route=ROUTE,
                                  hint="give static input shapes, or keep this part in one stage")
        profiles = []
        for p in batch[0].profiles:
            rest = tuple(int(d) for d in shape[1:])
            profiles.append(ShapeProfile((p.min[0],) + rest, (p.opt[0],) + rest, (p.max[0],) + rest))
        return InputSpec(name=name, dtype=dtype, profiles=tuple(profiles))

    # --- TensorFlow segments ----------------------------------------------------------
    def framework_stage(self, name: str, segment: Segment) -> Any:
        from trtforge.program.tf_stage import stage_from_graph

        graph = self.graph
        real = [self.node_of[n] for n in segment.names if n in self.node_of]
        constants = {}
        for node_name in real:
            for tensor in graph.nodes[node_name].inputs:
                value = graph.constant(tensor)
                if value is not None:
                    constants[canonical_tensor(tensor)] = value
        inputs = {n: self.tensors[n] for n in segment.inputs}
        outputs = {n: self.tensors[n] for n in segment.outputs}
        return stage_from_graph(name, graph.graph_def, real, inputs, outputs, constants, route=ROUTE,
                                input_dtypes={n: self.dtypes[n] for n in segment.inputs})




def _macs(node: Any) -> int:
    """Multiply-accumulates of the ops that dominate a model's cost (others count 0)."""
    out = node.output_shape(0)
    if out is None or any(d is None for d in out):
        return 0
    elements = int(np.prod([max(int(d), 1) for d in out]))
    if node.op in ("Conv2D", "DepthwiseConv2dNative", "Conv2DBackpropInput"):
        kernel = node.input_shape(1)  # the filter
        if kernel is None or None in kernel:
            return 0
        kh, kw, cin, _ = (int(d) for d in kernel)
        if node.op == "DepthwiseConv2dNative":
            return elements * kh * kw
        return elements * kh * kw * cin
    if node.op in ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"):
        a = node.input_shape(0)
        if a is None or a[-1] is None:
            return 0
        transposed = node.attr("transpose_a", False) or node.attr("adj_x", False)
        depth = a[-2] if transposed else a[-1]
        return elements * int(depth or 1)
    return 0


def partial_graph(prepared: Prepared) -> TfPartialGraph:
    """Every node of the prepared graph with its converter (or why none takes it)."""
    graph = prepared.graph
    frozen = prepared.frozen
    verdicts = {n.name: n for n in prepared.report.nodes}
    tensors: dict[str, str] = {}
    dtypes: dict[str, str] = {}
    program_name: dict[str, str] = {}  # graph tensor -> program tensor
    inputs = []
    for tensor in frozen.input_specs:
        program_name[canonical_tensor(tensor.tensor)] = tensor.name
        tensors[tensor.name] = tensor.tensor
        dtypes[tensor.name] = tensor.dtype
        inputs.append(_input_spec(tensor, prepared))
    nodes: list[GraphNode] = []
    node_of: dict[str, str] = {}
    converted = graph.converted_nodes()
    reserved = {t.name for t in frozen.output_specs} | set(tensors)
    for node in converted:
        used = sorted(graph.consumed_outputs(node.name)) or [0]
        name = node.name if node.name not in reserved else f"{node.name}/node"
        for index in used:
            program = name if index == 0 else f"{name}:{index}"
            program_name[f"{node.name}:{index}"] = program
            tensors[program] = f"{node.name}:{index}"
            dtypes[program] = graph.dtype(f"{node.name}:{index}")
    for node in converted:
        verdict = verdicts[node.name]
        reads = []
        for tensor in node.inputs:
            canonical = canonical_tensor(tensor)
            if canonical in program_name and not graph.is_constant(canonical):
                reads.append(program_name[canonical])
        reads = list(dict.fromkeys(reads))
        own = program_name[f"{node.name}:0"] if f"{node.name}:0" in program_name else node.name
        node_of[own] = node.name
        size, shape = value_size(node.output_shape(0), node.output_dtype(0))
        reason = None if verdict.supported else ("; ".join(verdict.reasons) or "no converter")
        nodes.append(GraphNode(name=own, op=node.op, inputs=tuple(r for r in reads if r != own),
                               supported=verdict.supported, reason=reason, macs=_macs(node),
                               cheap=node.op in CHEAP_OPS, place=node.name,
                               outputs=((own, size, shape),)))
        for index in sorted(graph.consumed_outputs(node.name)):
            if index == 0:
                continue
            extra = program_name[f"{node.name}:{index}"]
            size, shape = value_size(node.output_shape(index), node.output_dtype(index))
            # The further output is computed by its node: the pseudo-node only names it, on
            # the node's side (a TensorRT segment marks it, a TensorFlow stage fetches it).
            nodes.append(GraphNode(name=extra, op=OUTPUT_OP, inputs=(own,), supported=verdict.supported,
                                   reason=reason, cheap=True, place=node.name,
                                   outputs=((extra, size, shape),)))
    outputs = []
    for tensor in frozen.output_specs:
        canonical = canonical_tensor(tensor.tensor)
        source = program_name.get(canonical)
        if source is None:
            raise ConversionError(f"model output {tensor.name} ({tensor.tensor}) is a constant or an "
                                  "input; a program cannot return it", route=ROUTE,
                                  hint="convert with fallback='never'")
        tensors[tensor.name] = canonical
        dtypes[tensor.name] = graph.dtype(canonical)
        size, shape = value_size(graph.shape(canonical), dtypes[tensor.name])
        nodes.append(GraphNode(name=tensor.name, op=OUTPUT_OP, inputs=(source,), supported=True,
                               cheap=True, place=tensor.tensor, outputs=((tensor.name, size, shape),)))
        outputs.append(tensor.name)
    return TfPartialGraph(prepared, nodes, outputs, inputs, tensors=tensors, dtypes=dtypes,
                          node_of=node_of)


def _input_spec(tensor: Any, prepared: Prepared) -> InputSpec:
    given = prepared.specs.get(tensor.name)
    if given is not None:
        return given.with_name(tensor.name)
    shape = prepared.shapes[tensor.name]
    return InputSpec(name=tensor.name, dtype=tensor.dtype, shape=tuple(int(d) for d in shape))
