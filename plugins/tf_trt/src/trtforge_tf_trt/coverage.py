"""Per-node capability, before any layer is built: which converter takes each node, and every
node none takes, in one report.

TF-TRT's users complained most about partial conversion with no explanation; here every
node of the graph gets a verdict (converter or reason), the report lists *all* unsupported
nodes by name and op, and a conversion that cannot be complete stops before building
anything, so ``backend="auto"`` moves to the next route cleanly.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from trtforge.errors import UnsupportedOperationsError

from trtforge_tf_trt import ROUTE
from trtforge_tf_trt.graph import TfGraph
from trtforge_tf_trt.registry import ConverterRegistry, ConverterSupport

MAX_NODES = 6


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

    def gaps(self) -> list[str]:
        """One line per unsupported op type: count, node names, reasons."""
        by_op: "OrderedDict[str, list[NodeCapability]]" = OrderedDict()
        for node in self.unsupported:
            by_op.setdefault(node.op, []).append(node)
        lines = []
        for op, nodes in by_op.items():
            names = [n.name for n in nodes]
            shown = names[:MAX_NODES] + (["..."] if len(names) > MAX_NODES else [])
            reasons = sorted({r for n in nodes for r in n.reasons})
            lines.append(f"{op} x{len(nodes)} (at {', '.join(shown)}): "
                         + ("; ".join(reasons) if reasons else "no converter"))
        return lines

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
        if self.complete:
            return
        gaps = self.gaps()
        raise UnsupportedOperationsError(
            f"{ROUTE} cannot convert {len(gaps)} op kind(s) ({len(self.unsupported)} node(s)): "
            + "; ".join(gaps),
            route=ROUTE, unsupported=gaps,
            hint="add a converter through the register_converters hook (see the tf_trt README), "
            "rewrite those parts of the model, or use backend='onnx_trt'")


def assess(graph: TfGraph, registry: ConverterRegistry) -> CoverageReport:
    """The verdict on every node TensorRT layers must compute."""
    nodes, chosen = [], {}
    for node in graph.converted_nodes():
        support, reasons = registry.select(node)
        if support is not None:
            chosen[node.name] = support
            nodes.append(NodeCapability(node.name, node.op, support.name))
        else:
            nodes.append(NodeCapability(node.name, node.op, None, tuple(reasons)))
    return CoverageReport(nodes, folded=len(graph.const_nodes), chosen=chosen)
