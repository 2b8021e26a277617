"""Coverage report, before any layer is built: every op we cannot convert, in one error.

Walking the whole graph first (rather than failing at the first unknown node) gives the user
the complete list -- op, how often, where in the module tree, and why validators refused --
and lets ``backend="auto"`` move to the next route without a half-built network.
"""
from __future__ import annotations

from typing import Any

from trtforge.plugin.converters import Gap, unsupported_error

from trtforge_torch2trt import ROUTE
from trtforge_torch2trt.capture import module_path
from trtforge_torch2trt.converters import CONST
from trtforge_torch2trt.registry import ConverterRegistry, ConverterSupport, target_name

__all__ = ["Gap", "HINT", "mark_constants", "plan"]

HINT = ("add a converter through the register_converters hook (see the torch2trt README), "
        "rewrite those parts of the model, or use backend='onnx_trt'")


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
    converted = [n for n in graph.nodes if n.op == "call_function" and not n.meta.get(CONST)]
    found = registry.plan(converted, key=lambda n: n.name, op=lambda n: target_name(n.target),
                          place=module_path)
    if found.gaps:
        raise unsupported_error(ROUTE, found.gaps, HINT)
    return found.chosen
