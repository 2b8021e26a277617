"""Before any layer is built: the converter of every node, or one error naming every gap.

Only nodes an output depends on count (a frozen graph's training leftovers do not stop
the import). Each gap says the op, how often, where, and why converters refused it.
"""

from __future__ import annotations

from typing import Any

from trtforge.plugin.converters import Gap, unsupported_error

from trtforge_uff import ROUTE
from trtforge_uff.importer.registry import ConverterRegistry, ConverterSupport

__all__ = ["STRUCTURAL", "Gap", "base_id", "needed_order", "plan", "require_covered"]

STRUCTURAL = ("Input", "Const", "MarkOutput")
HINT = (
    "add a converter through the register_converters hook (route 'uff'), or replace "
    "those nodes with graph surgery (trtforge_uff.surgery)"
)


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


def plan(
    graph: Any, registry: ConverterRegistry, order: list[Any]
) -> tuple[dict[str, ConverterSupport], list[Gap]]:
    """The converter of every node in ``order`` and the gaps (a place is a node id, each listed)."""
    converted = [node for node in order if node.op not in STRUCTURAL]
    found = registry.plan(converted, graph, key=lambda n: n.id, op=lambda n: n.op,
                          place=lambda n: n.id, distinct_places=False)
    return found.chosen, found.gaps


def require_covered(gaps: list[Gap], origin: str) -> None:
    if not gaps:
        return
    plugin_gaps = [g.op for g in gaps if g.op.startswith("_")]
    hint = HINT
    if plugin_gaps:
        hint = (
            f"{', '.join(plugin_gaps)} are plugin nodes this TensorRT cannot build here; "
            "fallback='auto' (the default) runs NMS_TRT as a host stage of a hybrid program, "
            "options={'outputs': [...]} stops the engine before them, or build on a TensorRT "
            "that has the plugins; " + hint
        )
    raise unsupported_error(ROUTE, gaps, hint, of=origin)
