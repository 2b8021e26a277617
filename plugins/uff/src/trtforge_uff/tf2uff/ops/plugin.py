"""Plugin nodes (``GridAnchor_TRT``, ``NMS_TRT``, ... made by graph surgery) -> ``_<Op>`` nodes.

Their attributes become ``_u_*`` suffixed fields, as NVIDIA's converter wrote them:
int ``_u_int``, float ``_u_float``, int list ``_u_ilist``, float list ``_u_flist``,
string ``_u_str``, bool ``_u_bool``.
"""
from __future__ import annotations

from typing import Any

from trtforge_uff.tf2uff.context import TfContext

SKIPPED_ATTRS = ("T", "dtype", "_output_shapes", "_class")


def plugin_fields(node: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in sorted(node.attr):
        if name in SKIPPED_ATTRS:
            continue
        value = node.attr[name]
        kind = value.WhichOneof("value")
        if kind == "i":
            fields[f"{name}_u_int"] = int(value.i)
        elif kind == "f":
            fields[f"{name}_u_float"] = float(value.f)
        elif kind == "b":
            fields[f"{name}_u_bool"] = bool(value.b)
        elif kind == "s":
            fields[f"{name}_u_str"] = value.s.decode()
        elif kind == "list":
            if value.list.f:
                fields[f"{name}_u_flist"] = [float(v) for v in value.list.f]
            elif value.list.i:
                fields[f"{name}_u_ilist"] = [int(v) for v in value.list.i]
            elif value.list.s:
                fields[f"{name}_u_slist"] = [v.decode() for v in value.list.s]
    return fields


def is_plugin_op(op: str) -> bool:
    return op.endswith("_TRT")


def write_plugin(ctx: TfContext) -> str:
    inputs = [ctx.input(i) for i in range(len(ctx.data_inputs()))]
    return ctx.builder.plugin(ctx.name, ctx.node.op, inputs, plugin_fields(ctx.node))
