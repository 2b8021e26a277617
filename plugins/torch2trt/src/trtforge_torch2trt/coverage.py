"""Coverage report, before any layer is built: every op we cannot convert, in one error.

Walking the whole graph first (rather than failing at the first unknown node) gives the user
the complete list -- op, how often, where in the module tree, and why validators refused --
and lets ``backend="auto"`` move to the next route without a half-built network.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from trtforge.errors import UnsupportedOperationsError

from trtforge_torch2trt import ROUTE
from trtforge_torch2trt.capture import module_path
from trtforge_torch2trt.converters import CONST
from trtforge_torch2trt.registry import ConverterRegistry, ConverterSupport, target_name

MAX_PLACES = 4


@dataclass
class Gap:
    op: str
    count: int = 0
    places: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def describe(self) -> str:
        places = self.places[:MAX_PLACES] + (["..."] if len(self.places) > MAX_PLACES else [])
        text = f"{self.op} x{self.count} (at {', '.join(places)})"
        if self.reasons:
            text += f": {'; '.join(self.reasons)}"
        else:
            text += ": no converter"
        return text


def mark_constants(graph: Any, constant_inputs: set[str]) -> None:
    """Set ``node.meta[CONST]``: True where the value depends only on weights/buffers."""
    for node in graph.nodes:
        if node.op == "placeholder":
            node.meta[CONST] = node.name in constant_inputs
        elif node.op == "get_attr":
            node.meta[CONST] = True
        elif node.op == "call_function":
            inputs = node.all_input_nodes
            node.meta[CONST] = all(n.meta.get(CONST, False) for n in inputs) and not _is_random(node)
        else:
            node.meta[CONST] = False


def _is_random(node: Any) -> bool:
    return "rand" in target_name(node.target)


def plan(graph: Any, registry: ConverterRegistry, constant_inputs: set[str]) -> dict[str, ConverterSupport]:
    """The converter of every non-constant node; raises listing every gap if any."""
    mark_constants(graph, constant_inputs)
    chosen: dict[str, ConverterSupport] = {}
    gaps: "OrderedDict[str, Gap]" = OrderedDict()
    for node in graph.nodes:
        if node.op != "call_function" or node.meta.get(CONST):
            continue
        support, reasons = registry.select(node)
        if support is not None:
            chosen[node.name] = support
            continue
        op = target_name(node.target)
        gap = gaps.setdefault(op, Gap(op))
        gap.count += 1
        place = module_path(node)
        if place not in gap.places:
            gap.places.append(place)
        for reason in reasons:
            if reason not in gap.reasons:
                gap.reasons.append(reason)
    if gaps:
        unsupported = [gap.describe() for gap in gaps.values()]
        total = sum(g.count for g in gaps.values())
        raise UnsupportedOperationsError(
            f"{ROUTE} cannot convert {len(gaps)} op kind(s) ({total} node(s)): " + "; ".join(unsupported),
            route=ROUTE,
            unsupported=unsupported,
            hint="add a converter through the register_converters hook (see the torch2trt "
            "README), rewrite those parts of the model, or use backend='onnx_trt'",
        )
    return chosen
