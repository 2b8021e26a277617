"""Frozen TF GraphDef -> UFF MetaGraph: every needed node through its ``@tf_op`` writer.

Every TF op that cannot be written is reported at once (op, count, nodes, reason) before
anything is written. Plugin nodes (ops ending in ``_TRT``, made by graph surgery) become
``_<Op>`` custom nodes. Outputs get ``MarkOutput_<n>`` nodes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from trtforge.plugin.converters import collect_gaps
from trtforge.errors import UnsupportedOperationsError, UsageError

from trtforge_uff import ROUTE
from trtforge_uff.format.builder import UffBuilder
from trtforge_uff.tf2uff.context import FORWARDED, TF_DTYPES, TfContext, tensor_node
from trtforge_uff.tf2uff.ops.plugin import is_plugin_op, write_plugin
from trtforge_uff.tf2uff.registry import table

log = logging.getLogger(__name__)
RETYPED_INPUTS = {4: "uint8", 10: "bool"}


@dataclass
class TfToUffResult:
    meta: Any
    inputs: list[str]
    outputs: list[str]
    plugin_nodes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _needed(nodes: dict[str, Any], outputs: Sequence[str], stop: set[str]) -> list[Any]:
    """Nodes the outputs depend on (data inputs only), inputs first; stops at ``stop``."""
    order, state = [], {}
    for root in outputs:
        stack = [(tensor_node(root)[0], False)]
        while stack:
            name, done = stack.pop()
            if done:
                if state.get(name) != 2:
                    state[name] = 2
                    order.append(nodes[name])
                continue
            if state.get(name):
                continue
            if name not in nodes:
                raise UsageError(
                    f"the graph has no node {name!r}", hint="name existing graph nodes as outputs"
                )
            state[name] = 1
            stack.append((name, True))
            if name in stop:
                continue
            for tf_input in reversed([i for i in nodes[name].input if not i.startswith("^")]):
                if not state.get(tensor_node(tf_input)[0]):
                    stack.append((tensor_node(tf_input)[0], False))
    return order


def graphdef_to_uff(
    graph_def: Any,
    inputs: Sequence[str],
    outputs: Sequence[str],
    *,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
) -> TfToUffResult:
    """Write the part of ``graph_def`` between ``inputs`` (placeholders) and ``outputs`` as UFF."""
    nodes = {n.name: n for n in graph_def.node}
    input_names = [tensor_node(i)[0] for i in inputs]
    output_names = [tensor_node(o)[0] for o in outputs]
    missing = [n for n in input_names + output_names if n not in nodes]
    if missing:
        raise UsageError(
            f"the graph has no node(s) {', '.join(missing)}",
            hint="name graph nodes (placeholders as inputs, result nodes as outputs)",
        )
    order = _needed(nodes, output_names, set(input_names))
    builder = UffBuilder()
    ctx = TfContext(builder, nodes)
    ops = table()
    for name in input_names:
        code = nodes[name].attr["dtype"].type if "dtype" in nodes[name].attr else 1
        if code in RETYPED_INPUTS:
            ctx.retyped.add(name)
    refused: list[tuple[str, str, list[str]]] = []
    # Coverage first: Const and Identity-like nodes are written on use, inputs are Inputs.
    for node in order:
        if node.name in input_names or node.op == "Const" or node.op in FORWARDED or is_plugin_op(node.op):
            continue
        ctx.node = node
        support = ops.get(node.op)
        reason = None if support is not None else "no TF -> UFF writer"
        if support is not None and support.check is not None:
            verdict = support.check(ctx)
            reason = None if verdict is True else (verdict or "refused")
        if reason is not None:
            refused.append((node.op, node.name, [reason]))
    gaps = collect_gaps(refused, distinct_places=False)
    if gaps:
        unsupported = [gap.describe() for gap in gaps]
        raise UnsupportedOperationsError(
            f"{ROUTE} cannot write {len(gaps)} TF op kind(s) as UFF: " + "; ".join(unsupported),
            route=ROUTE,
            unsupported=unsupported,
            hint="replace those subgraphs with plugin nodes (trtforge_uff.surgery), "
            "or use backend='onnx_trt'",
        )
    plugins: list[str] = []
    notes: list[str] = []
    shapes = dict(input_shapes or {})
    for node in order:
        ctx.node = node
        if node.name in input_names:
            shape = list(shapes.get(node.name) or ctx.attr("shape") or [])
            if not shape and node.op == "Placeholder":
                raise UsageError(
                    f"placeholder {node.name!r} has no static rank",
                    hint="give its shape (input_shapes={name: [...]})",
                )
            code = ctx.attr("dtype", 1)
            if node.name in ctx.retyped:
                notes.append(
                    f"input {node.name}: {RETYPED_INPUTS[code]} written as float32 (UFF has no "
                    f"{RETYPED_INPUTS[code]}); feed it as float32"
                )
            elif code not in TF_DTYPES:
                raise UsageError(
                    f"input {node.name!r} has TF dtype {code}, which UFF cannot hold",
                    hint="UFF inputs are float32, float16, int8, int16, int32 or int64",
                )
            builder.input(node.name, [int(d) for d in shape], TF_DTYPES.get(code, "float32"))
        elif node.op == "Const":
            continue  # written where used (as a Const node named after it)
        elif node.op in FORWARDED:
            continue
        elif is_plugin_op(node.op):
            plugins.append(write_plugin(ctx))
        else:
            written = ops[node.op].function(ctx)
            if written != node.name:
                ctx.aliases[node.name] = written
    for name in outputs:
        builder.mark_output(ctx.uff_input(name))
    meta = builder.meta()
    return TfToUffResult(meta, input_names, [ctx.uff_input(o) for o in outputs], plugins, notes)
