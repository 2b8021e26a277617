"""Per-node capability, before any layer is built: which converter takes each node, and every
node none takes, in one report.

TF-TRT's users complained most about partial conversion with no explanation; here every
node of the graph gets a verdict (converter or reason), the report lists *all* unsupported
nodes by name and op, and a conversion that cannot be complete stops before building
anything, so ``backend="auto"`` moves to the next route cleanly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trtforge.plugin.converters import Gap, collect_gaps, unsupported_error

from trtforge_tf_trt import ROUTE
from trtforge_tf_trt.graph import TfGraph
from trtforge_tf_trt.registry import ConverterRegistry, ConverterSupport

MAX_NODES = 6
HINT = ("add a converter through the register_converters hook (see the tf_trt README), "
        "rewrite those parts of the model, or use backend='onnx_trt'")


@dataclass(frozen=True)
class NodeCapability:
    """The verdict on one node: its converter, or why none takes it."""

    name: str
    op: str
    converter: str | None
    reasons: tuple[str, ...] = ()

    @property
    def supported(self) -> bool:
        return self.converter is not None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op, "converter": self.converter,
                "reasons": list(self.reasons)}


@dataclass
class CoverageReport:
    """Every converted node's verdict plus the constants folded before conversion."""

    nodes: list[NodeCapability]
    folded: int = 0
    chosen: dict[str, ConverterSupport] = field(default_factory=dict, repr=False)

    @property
    def unsupported(self) -> list[NodeCapability]:
        return [n for n in self.nodes if not n.supported]

    @property
    def complete(self) -> bool:
        return not self.unsupported

    def gap_records(self) -> list[Gap]:
        """One :class:`Gap` per unsupported op type: its node names (each), reasons sorted."""
        gaps = collect_gaps(((n.op, n.name, n.reasons) for n in self.unsupported), distinct_places=False)
        for gap in gaps:
            gap.reasons.sort()
        return gaps

    def gaps(self) -> list[str]:
        """One line per unsupported op type: count, node names, reasons."""
        return [gap.describe(MAX_NODES) for gap in self.gap_records()]

    def summary(self) -> str:
        ops: dict[str, int] = {}
        for node in self.nodes:
            ops[node.op] = ops.get(node.op, 0) + 1
        return (f"{len(self.nodes)} nodes to convert ({len(self.unsupported)} unsupported), "
                f"{self.folded} constant nodes folded; ops: "
                + ", ".join(f"{op} x{n}" for op, n in sorted(ops.items())))

    def to_dict(self) -> dict[str, Any]:
        return {"complete": self.complete, "folded": self.folded,
                "nodes": [n.to_dict() for n in self.nodes], "gaps": self.gaps()}

    def raise_if_incomplete(self) -> None:
        if not self.complete:
            raise unsupported_error(ROUTE, self.gap_records(), HINT, max_places=MAX_NODES)


def assess(graph: TfGraph, registry: ConverterRegistry) -> CoverageReport:
    """The verdict on every node TensorRT layers must compute."""
    converted = graph.converted_nodes()
    found = registry.plan(converted, key=lambda n: n.name, op=lambda n: n.op, place=lambda n: n.name,
                          distinct_places=False)
    nodes = []
    for node in converted:
        support = found.chosen.get(node.name)
        if support is not None:
            nodes.append(NodeCapability(node.name, node.op, support.name))
        else:
            nodes.append(NodeCapability(node.name, node.op, None, tuple(found.refusals[node.name])))
    return CoverageReport(nodes, folded=len(graph.const_nodes), chosen=found.chosen)
