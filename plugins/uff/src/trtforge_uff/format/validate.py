"""Find everything malformed in a UFF MetaGraph, naming the node and field of each problem.

:func:`problems` returns every problem (not the first one); :func:`require_valid` raises
one :class:`~trtforge_uff.format.io.UffFormatError` that lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trtforge_uff.format import schema
from trtforge_uff.format.io import UffFormatError
from trtforge_uff.format.ops import SPECS
from trtforge_uff.format.values import DimOrder, DType, Ref, expand, from_data

MAX_LISTED = 20
_ITEM_SIZE = {"int8": 1, "int16": 2, "int32": 4, "int64": 8, "float16": 2, "float32": 4}


@dataclass(frozen=True)
class Problem:
    where: str  # "MetaGraph", "graph 'main'", "node 'conv1' (Conv)"
    field: str | None
    message: str

    def __str__(self) -> str:
        place = self.where + (f" field {self.field!r}" if self.field else "")
        return f"{place}: {self.message}"


def _kind_ok(kind: str, value: Any) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "ints":
        return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if kind == "floats":
        return isinstance(value, list) and all(isinstance(v, (int, float)) for v in value)
    if kind == "dtype":
        return isinstance(value, DType)
    if kind == "orders":
        return isinstance(value, DimOrder) or (
            isinstance(value, list) and all(isinstance(v, DimOrder) for v in value)
        )
    if kind == "bytes_or_list":
        return isinstance(value, (bytes, list))
    return True


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if value is None:
        return "nothing (unset Data)"
    return f"{type(value).__name__} {value!r}"[:80]


def problems(meta: Any) -> list[Problem]:
    """Every problem in ``meta``; an empty list means the file is well formed."""
    found: list[Problem] = []
    add = lambda where, fld, msg: found.append(Problem(where, fld, msg))  # noqa: E731
    if meta.version != schema.META_VERSION:
        add("MetaGraph", "version", f"is {meta.version}, UFF files are version {schema.META_VERSION}")
    if meta.descriptor_core_version != schema.DESCRIPTOR_CORE_VERSION:
        add(
            "MetaGraph",
            "descriptor_core_version",
            f"is {meta.descriptor_core_version}, expected {schema.DESCRIPTOR_CORE_VERSION}",
        )
    if not meta.graphs:
        add("MetaGraph", "graphs", "is empty: a UFF file holds at least one graph")
    referenced = {key: from_data(value) for key, value in meta.referenced_data.items()}
    for key, value in referenced.items():
        if value is None:
            add("MetaGraph", f"referenced_data[{key}]", "holds no value")
    descriptors = {d.id for d in meta.descriptors}
    for graph in meta.graphs:
        found.extend(_graph_problems(graph, referenced, descriptors))
    return found


def _graph_problems(graph: Any, referenced: dict[str, Any], descriptors: set[str]) -> list[Problem]:
    found: list[Problem] = []
    ids: dict[str, int] = {}
    for node in graph.nodes:
        ids[node.id] = ids.get(node.id, 0) + 1
    gname = f"graph {graph.id!r}"
    for node_id, count in ids.items():
        if count > 1:
            found.append(Problem(f"{gname} node {node_id!r}", "id", f"is used by {count} nodes"))
    if not any(n.operation == "MarkOutput" for n in graph.nodes):
        found.append(Problem(gname, "nodes", "has no MarkOutput node: nothing is an output"))
    for index, node in enumerate(graph.nodes):
        where = (
            f"node {node.id!r} ({node.operation or '?'})"
            if node.id
            else f"node #{index} ({node.operation or '?'})"
        )
        if not node.id:
            found.append(Problem(where, "id", "is empty"))
        if not node.operation:
            found.append(Problem(where, "operation", "is empty"))
            continue
        for position, name in enumerate(node.inputs):
            base = name.rsplit(":", 1)[0] if name.rsplit(":", 1)[-1].isdigit() else name
            if base not in ids:
                found.append(
                    Problem(where, f"inputs[{position}]", f"names {name!r}, which is no node of {gname}")
                )
        fields = {}
        for key, data in node.fields.items():
            value = from_data(data)
            if isinstance(value, Ref):
                if value.key not in referenced:
                    found.append(
                        Problem(where, key, f"refers to referenced_data[{value.key!r}], which is missing")
                    )
                    continue
                value = referenced[value.key]
            if value is None:
                found.append(Problem(where, key, "holds no value"))
                continue
            fields[key] = value
            found.extend(_value_problems(where, key, value))
        if node.operation.startswith("_"):
            if "custom" not in descriptors:
                found.append(
                    Problem(where, "operation", "is a custom op but the file declares no 'custom' descriptor")
                )
            continue
        spec = SPECS.get(node.operation)
        if spec is None:
            found.append(
                Problem(
                    where,
                    "operation",
                    f"{node.operation!r} is no UFF core op (custom ops are spelled '_<Op>')",
                )
            )
            continue
        count = len(node.inputs)
        if not spec.min_inputs <= count <= spec.max_inputs:
            want = (
                str(spec.min_inputs) if spec.min_inputs == spec.max_inputs else f"at least {spec.min_inputs}"
            )
            found.append(Problem(where, "inputs", f"has {count} input(s), {node.operation} takes {want}"))
        for key, kind in {**spec.required, **spec.optional}.items():
            if key in fields and not _kind_ok(kind, fields[key]):
                found.append(Problem(where, key, f"should be {kind}, is {_describe(fields[key])}"))
        for key in spec.required:
            if key not in fields and not any(key == k for k in node.fields):
                found.append(Problem(where, key, f"is missing (required by {node.operation})"))
        for group in spec.one_of:
            given = [k for k in group if k in fields]
            if len(given) > 1:
                found.append(
                    Problem(where, "/".join(group), f"at most one of them may be given, found {len(given)}")
                )
        if spec.funcs and isinstance(fields.get("func"), str) and fields["func"] not in spec.funcs:
            found.append(Problem(where, "func", f"{fields['func']!r} is not one of {', '.join(spec.funcs)}"))
        if node.operation == "Const":
            found.extend(_const_problems(where, fields))
    found.extend(_cycle_problems(graph, gname))
    return found


def _value_problems(where: str, key: str, value: Any) -> list[Problem]:
    found = []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, DType) and item.name.startswith("unknown"):
            found.append(Problem(where, key, f"has the unknown data type {item.name}"))
        if isinstance(item, DimOrder):
            for rank_key, values in item.orders:
                rank = (
                    rank_key
                    if rank_key > 0
                    else sum(1 for v in values if v not in (schema.INCREMENT, schema.DECREMENT))
                    + (1 if schema.INCREMENT in values or schema.DECREMENT in values else 0)
                )
                try:
                    expand(values, rank)
                except ValueError as exc:
                    found.append(Problem(where, key, f"has a malformed dimension order: {exc}"))
    return found


def _const_problems(where: str, fields: dict[str, Any]) -> list[Problem]:
    dtype, shape, values = fields.get("dtype"), fields.get("shape"), fields.get("values")
    if not isinstance(dtype, DType) or not isinstance(shape, list) or not isinstance(values, bytes):
        return []
    if any(d < 0 for d in shape):
        return [Problem(where, "shape", f"{shape} has a negative size")]
    size = _ITEM_SIZE.get(dtype.name)
    count = 1
    for d in shape:
        count *= d
    if size is not None and len(values) not in (count * size, size):
        return [
            Problem(
                where,
                "values",
                f"holds {len(values)} bytes, shape {shape} of {dtype.name} needs {count * size}",
            )
        ]
    return []


def _cycle_problems(graph: Any, gname: str) -> list[Problem]:
    inputs = {
        n.id: [i.rsplit(":", 1)[0] if i.rsplit(":", 1)[-1].isdigit() else i for i in n.inputs]
        for n in graph.nodes
    }
    state: dict[str, int] = {}
    for start in inputs:
        if state.get(start):
            continue
        stack = [(start, iter(inputs[start]))]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif nxt in inputs and state.get(nxt) == 1:
                return [Problem(f"{gname} node {nxt!r}", "inputs", f"is part of a cycle (through {node!r})")]
            elif nxt in inputs and not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(inputs[nxt])))
    return []


def require_valid(meta: Any, origin: str) -> None:
    """Raise one error listing every problem of ``meta`` (read from ``origin``)."""
    found = problems(meta)
    if not found:
        return
    listed = [str(p) for p in found]
    shown = "; ".join(listed[:MAX_LISTED]) + (
        f"; ... {len(listed) - MAX_LISTED} more" if len(listed) > MAX_LISTED else ""
    )
    raise UffFormatError(
        f"{origin} is malformed UFF ({len(found)} problem(s)): {shown}",
        hint="fix the writer of this file, or run `trtforge uff inspect` on it",
        problems=listed,
    )
