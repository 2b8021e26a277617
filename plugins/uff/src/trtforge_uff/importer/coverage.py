"""Before any layer is built: the converter of every node, or one error naming every gap.

Only nodes an output depends on count (a frozen graph's training leftovers do not stop
the import). Each gap says the op, how often, where, and why converters refused it.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from trtforge.errors import UnsupportedOperationsError

from trtforge_uff import ROUTE
from trtforge_uff.importer.registry import ConverterRegistry, ConverterSupport

STRUCTURAL = ("Input", "Const", "MarkOutput")
MAX_PLACES = 4


@dataclass
class Gap:
    op: str
    places: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def describe(self) -> str:
        places = self.places[:MAX_PLACES] + (["..."] if len(self.places) > MAX_PLACES else [])
        why = "; ".join(self.reasons) if self.reasons else "no converter"
        return f"{self.op} x{len(self.places)} (at {', '.join(places)}): {why}"


def base_id(name: str) -> str:
    head, _, tail = name.rpartition(":")
    return head if head and tail.isdigit() else name


def needed_order(graph: Any, outputs: list[str] | None = None) -> list[Any]:
    """The nodes the outputs depend on, inputs before users."""
    nodes = graph.by_id()
    wanted = outputs if outputs is not None else [n.id for n in graph.nodes if n.op == "MarkOutput"]
    order: list[Any] = []
    state: dict[str, int] = {}
    for root in wanted:
        stack = [(root, False)]
        while stack:
            node_id, done = stack.pop()
            if done:
                if state.get(node_id) != 2:
                    state[node_id] = 2
                    order.append(nodes[node_id])
                continue
            if state.get(node_id):
                continue
            state[node_id] = 1
            stack.append((node_id, True))
            for name in reversed(nodes[node_id].inputs):
                if not state.get(base_id(name)):
                    stack.append((base_id(name), False))
    return order


def plan(graph: Any, registry: ConverterRegistry, order: list[Any]) -> tuple[dict[str, ConverterSupport], list[Gap]]:
    chosen: dict[str, ConverterSupport] = {}
    gaps: "OrderedDict[str, Gap]" = OrderedDict()
    for node in order:
        if node.op in STRUCTURAL:
            continue
        support, reasons = registry.select(node, graph)
        if support is not None:
            chosen[node.id] = support
            continue
        gap = gaps.setdefault(node.op, Gap(node.op))
        gap.places.append(node.id)
        for reason in reasons:
            if reason not in gap.reasons:
                gap.reasons.append(reason)
    return chosen, list(gaps.values())


def require_covered(gaps: list[Gap], origin: str) -> None:
    if not gaps:
        return
    unsupported = [gap.describe() for gap in gaps]
    total = sum(len(g.places) for g in gaps)
    plugin_gaps = [g.op for g in gaps if g.op.startswith("_")]
    hint = ("add a converter through the register_converters hook (route 'uff'), or replace "
            "those nodes with graph surgery (trtforge_uff.surgery)")
    if plugin_gaps:
        hint = (f"{', '.join(plugin_gaps)} are plugin nodes this TensorRT cannot build here; run them "
                "as post-processing outside the engine (mark their inputs as outputs with "
                "trtforge_uff.surgery), or build on a TensorRT that has the plugins; " + hint)
    raise UnsupportedOperationsError(
        f"{ROUTE} cannot convert {len(gaps)} op kind(s) ({total} node(s)) of {origin}: "
        + "; ".join(unsupported), route=ROUTE, unsupported=unsupported, hint=hint)
