"""Graph surgery on a UFF MetaGraph itself, for users who only have the ``.uff``.

The same operations as :mod:`trtforge_uff.surgery` (which edits TF GraphDefs before the UFF
is written): collapse a namespace into one (plugin) node, remove nodes, forward inputs, and
choose the outputs (rewriting the ``MarkOutput_N`` nodes). Edits the message in place.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from trtforge.errors import UsageError

from trtforge_uff.format import schema
from trtforge_uff.format.values import to_data


def _base(name: str) -> str:
    head, _, tail = name.rpartition(":")
    return head if head and tail.isdigit() else name


def _graph(meta: Any, index: int = 0) -> Any:
    if not meta.graphs:
        raise UsageError("the UFF MetaGraph has no graph to edit")
    return meta.graphs[index]


def _replace(graph: Any, nodes: list[Any]) -> None:
    copies = []
    for node in nodes:
        copy = schema.Node()
        copy.CopyFrom(node)
        copies.append(copy)
    del graph.nodes[:]
    graph.nodes.extend(copies)


def _declare_custom(meta: Any) -> None:
    if not any(d.id == "custom" for d in meta.descriptors):
        meta.descriptors.add(id="custom", version=1)


def collapse_namespace(
    meta: Any,
    namespace: str,
    name: str,
    op: str,
    fields: Mapping[str, Any] | None = None,
    graph_index: int = 0,
) -> None:
    """Replace every node of ``namespace`` (``namespace`` or ``namespace/...``) with one node
    ``name`` of ``op`` (``_`` prefixed for a plugin op) that reads what the namespace read
    from outside; readers of namespace nodes read the new node."""
    graph = _graph(meta, graph_index)
    inside = {n.id for n in graph.nodes if n.id == namespace or n.id.startswith(namespace + "/")}
    if not inside:
        raise UsageError(
            f"the UFF graph has no node in namespace {namespace!r}",
            hint="`trtforge uff inspect FILE --json` lists the node ids",
        )
    gathered: list[str] = []
    kept: list[Any] = []
    placed = False
    replacement = schema.Node(id=name, operation=op)
    for key, value in (fields or {}).items():
        replacement.fields[key].CopyFrom(to_data(value))
    for node in graph.nodes:
        if node.id in inside:
            for i in node.inputs:
                if _base(i) not in inside and i not in gathered:
                    gathered.append(i)
            if not placed:
                kept.append(replacement)
                placed = True
            continue
        inputs = [name if _base(i) in inside else i for i in node.inputs]
        del node.inputs[:]
        node.inputs.extend(inputs)
        kept.append(node)
    replacement.inputs.extend(gathered)
    _replace(graph, kept)
    if op.startswith("_"):
        _declare_custom(meta)


def remove(meta: Any, ids: Iterable[str], graph_index: int = 0) -> None:
    """Drop the nodes ``ids``; inputs naming them are removed from the other nodes."""
    graph = _graph(meta, graph_index)
    names = set(ids)
    kept = []
    for node in graph.nodes:
        if node.id in names:
            continue
        inputs = [i for i in node.inputs if _base(i) not in names]
        del node.inputs[:]
        node.inputs.extend(inputs)
        kept.append(node)
    _replace(graph, kept)


def forward_inputs(meta: Any, ids: Iterable[str], graph_index: int = 0) -> None:
    """Drop the nodes ``ids``; their readers read each node's first input instead."""
    graph = _graph(meta, graph_index)
    by_id = {n.id: n for n in graph.nodes}
    forward = {}
    for node_id in ids:
        if node_id not in by_id or not by_id[node_id].inputs:
            raise UsageError(f"cannot forward {node_id!r}: no such node, or it has no input")
        forward[node_id] = by_id[node_id].inputs[0]

    def target(name: str) -> str:
        seen = set()
        while _base(name) in forward and _base(name) not in seen:
            seen.add(_base(name))
            name = forward[_base(name)]
        return name

    kept = []
    for node in graph.nodes:
        if node.id in forward:
            continue
        inputs = [target(i) for i in node.inputs]
        del node.inputs[:]
        node.inputs.extend(inputs)
        kept.append(node)
    _replace(graph, kept)


def set_outputs(meta: Any, outputs: Sequence[str], graph_index: int = 0) -> None:
    """Make ``outputs`` the graph's outputs: the MarkOutput nodes are rewritten."""
    graph = _graph(meta, graph_index)
    known = {n.id for n in graph.nodes}
    missing = [o for o in outputs if _base(o) not in known]
    if missing:
        raise UsageError(f"no UFF node(s) {', '.join(missing)}", hint="name node ids of the graph")
    kept = [n for n in graph.nodes if n.operation != "MarkOutput"]
    for k, name in enumerate(outputs):
        kept.append(schema.Node(id=f"MarkOutput_{k}", operation="MarkOutput", inputs=[name]))
    _replace(graph, kept)
