"""The uff route's side of hybrid programs: TensorRT segments of the UFF graph, and host
stages for the plugin nodes this TensorRT cannot build (NMS_TRT on TensorRT-RTX).

Nodes with neither a converter nor a host stage stop the conversion with the coverage report:
a UFF file has no framework that could run them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trtforge.errors import ConversionError, TrtforgeError
from trtforge.program.partition import GraphNode, value_size
from trtforge.conversion.specs import InputSpec

from trtforge_uff import ROUTE
from trtforge_uff.importer import coverage
from trtforge_uff.importer.registry import build_registry

HOST_STAGES = ("_NMS_TRT",)


@dataclass
class UffPartialGraph:
    graph: Any  # UffGraph
    nodes: list[GraphNode]
    outputs: list[str]
    inputs: list[InputSpec]
    framework: str = "host"
    extra_outputs: dict[str, list[str]] = field(default_factory=dict)

    def populate_segment(self, network: Any, segment: Any, spec: Any, ctx: Any) -> list[InputSpec]:
        from trtforge_uff.importer.convert import import_graph
        from trtforge_uff.load import compute_dtype

        graph_inputs = {s.name for s in self.inputs}
        boundary = [name for name in segment.inputs if name not in graph_inputs]
        if boundary:
            raise ConversionError(
                f"a TensorRT segment would start after a host stage (at {', '.join(boundary)})",
                route=ROUTE,
                hint="host stages (NMS_TRT) are supported at the end of the graph only",
            )
        outputs = list(segment.outputs)
        used = [s for s in self.inputs if s.name in segment.inputs or not segment.inputs]
        result = import_graph(
            network,
            ctx.tensorrt,
            self.graph,
            input_specs=list(spec.inputs) or used,
            outputs=outputs,
            compute=compute_dtype(spec, ctx.tensorrt),
            origin="the UFF graph",
        )
        ctx.keepalive.extend(result.keepalive)
        for note in result.notes:
            ctx.note(note)
        return [s for s in self.inputs if s.name in result.inputs]

    def framework_stage(self, name: str, segment: Any) -> Any:
        from trtforge_uff.host_nms import NmsSettings, NmsStage

        if len(segment.nodes) != 1 or segment.nodes[0].op not in HOST_STAGES:
            ops = ", ".join(f"{n.op} ({n.name})" for n in segment.nodes)
            raise ConversionError(
                f"no host stage runs {ops}",
                route=ROUTE,
                hint="only NMS_TRT runs on the host; others need a converter",
            )
        node = self.graph.by_id()[segment.nodes[0].name]
        outputs = [node.id] + self.extra_outputs.get(node.id, [])
        return NmsStage(name, NmsSettings.of_node(node), list(node.inputs), outputs)

    def output_dtypes(self) -> dict[str, str]:
        return {name: "int32" for extras in self.extra_outputs.values() for name in extras}


def partial_graph(
    graph: Any, spec: Any, origin: str, outputs: list[str] | None = None, tensorrt: Any = None
) -> UffPartialGraph:
    """The graph as partitioning sees it; raises the coverage error for nodes nothing can run.
    ``outputs``: node ids to return instead of the file's MarkOutputs (option ``outputs``);
    ``tensorrt``: the adapter that measures what crosses to host stages (else 0 bytes)."""
    registry = build_registry()
    if outputs:
        marks = [coverage.base_id(o) for o in outputs]
    else:
        marks = [n.id for n in graph.nodes if n.op == "MarkOutput"]
        outputs = [coverage.base_id(n.inputs[0]) for n in graph.nodes if n.op == "MarkOutput"]
    order = coverage.needed_order(graph, marks)
    chosen, gaps = coverage.plan(graph, registry, order)
    hostable = [g for g in gaps if g.op in HOST_STAGES]
    coverage.require_covered([g for g in gaps if g.op not in HOST_STAGES], origin)
    refused = {place: "; ".join(g.reasons) or "no converter" for g in hostable for place in g.places}
    specs = {s.name: s for s in spec.inputs if s.name}
    inputs = []
    for node in graph.inputs():
        if node.id in specs:
            inputs.append(specs[node.id])
            continue
        shape = [1 if d < 0 else int(d) for d in node.get("shape", [])]
        dtype = getattr(node.get("dtype"), "name", "float32")
        inputs.append(InputSpec(node.id, dtype, tuple(shape)))
    producers = _producers(graph, [graph.by_id()[place] for place in refused])
    sizes = _measured(graph, spec, tensorrt, inputs, producers) if tensorrt is not None and producers else {}
    nodes = []
    for node in order:
        if node.op in coverage.STRUCTURAL:
            continue
        size, shape = sizes.get(node.id, (0, "?"))
        nodes.append(
            GraphNode(
                name=node.id,
                op=node.op,
                inputs=_producers(graph, [node]),
                supported=node.id not in refused,
                reason=refused.get(node.id),
                cheap=node.op not in ("Conv", "ConvTranspose", "FullyConnected"),
                place=node.id,
                outputs=((node.id, size, shape),),
            )
        )
    extra = {name: [f"{name}_1"] for name in outputs if graph.by_id()[name].op in HOST_STAGES}
    all_outputs = [o for name in outputs for o in [name, *extra.get(name, [])]]
    return UffPartialGraph(graph, nodes, all_outputs, inputs, extra_outputs=extra)


def _producers(graph: Any, nodes: list[Any]) -> tuple[str, ...]:
    """The computed nodes ``nodes`` read (Const nodes never cross a stage boundary)."""
    by_id = graph.by_id()
    return tuple(
        dict.fromkeys(
            coverage.base_id(i) for node in nodes for i in node.inputs
            if by_id[coverage.base_id(i)].op != "Const"
        )
    )


def _measured(
    graph: Any, spec: Any, tensorrt: Any, inputs: list[InputSpec], names: tuple[str, ...]
) -> dict[str, tuple[int, str]]:
    """Bytes and shape of nodes ``names`` (what the engine hands to host stages). A UFF file
    records no shapes of computed values, so the graph up to them is imported into a scratch
    network (no engine is built); an import that fails leaves the sizes unknown (0 bytes)."""
    from trtforge_uff.importer.convert import import_graph
    from trtforge_uff.load import compute_dtype

    network = tensorrt.create_network()
    try:
        import_graph(network, tensorrt, graph, input_specs=inputs, outputs=list(names),
                     compute=compute_dtype(spec, tensorrt))
    except TrtforgeError:
        return {}
    sizes = {}
    for index in range(network.num_outputs):
        tensor = network.get_output(index)
        sizes[tensor.name] = value_size(tuple(int(d) for d in tensor.shape), tensorrt.dtype_name(tensor.dtype))
    return sizes
