"""Graph surgery on TF GraphDefs, the graphsurgeon operations UFF build scripts use.

``DynamicGraph(graph_def)`` with ``find_nodes_by_op/name/path``, ``collapse_namespaces``
(every node of a namespace replaced by one node, usually a plugin node), ``remove``,
``forward_inputs``, ``append``, ``graph_outputs`` and ``as_graph_def``; plus
``create_plugin_node`` / ``create_node``. A seed build script's steps map one to one::

    graph = DynamicGraph(graph_def)
    graph.collapse_namespaces({"MultipleGridAnchorGenerator": prior_box, "Postprocessor": nms, ...})
    graph.remove(graph.graph_outputs, remove_exclusive_dependencies=False)
    graph.find_nodes_by_op("NMS_TRT")[0].input.remove("Input")

Works on the GraphDef protos only (TensorFlow is imported for its NodeDef class).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from trtforge.errors import UsageError


def _node_def() -> Any:
    from tensorflow.core.framework import node_def_pb2

    return node_def_pb2.NodeDef()


def _base(name: str) -> str:
    name = name.lstrip("^")
    head, _, tail = name.rpartition(":")
    return head if head and tail.isdigit() else name


def _set_attr(node: Any, key: str, value: Any) -> None:
    attr = node.attr[key]
    if hasattr(value, "as_datatype_enum"):  # a tf.DType
        attr.type = value.as_datatype_enum
    elif key == "shape" and isinstance(value, (list, tuple)):
        for d in value:
            attr.shape.dim.add(size=int(d) if d is not None else -1)
    elif isinstance(value, bool):
        attr.b = value
    elif isinstance(value, int):
        attr.i = value
    elif isinstance(value, float):
        attr.f = value
    elif isinstance(value, str):
        attr.s = value.encode()
    elif isinstance(value, bytes):
        attr.s = value
    elif isinstance(value, (list, tuple)):
        items = list(value)
        if all(isinstance(v, bool) for v in items) and items:
            attr.list.b.extend(items)
        elif all(isinstance(v, int) for v in items):
            attr.list.i.extend(items)
        elif all(isinstance(v, (int, float)) for v in items):
            attr.list.f.extend(float(v) for v in items)
        elif all(isinstance(v, str) for v in items):
            attr.list.s.extend(v.encode() for v in items)
        else:
            raise UsageError(f"attribute {key!r}: cannot store the mixed list {items!r}")
    else:
        raise UsageError(f"attribute {key!r}: cannot store {type(value).__name__} {value!r} in a NodeDef")


def create_node(name: str, op: str, inputs: Sequence[str] = (), **attrs: Any) -> Any:
    """A NodeDef ``name`` of ``op`` with ``attrs`` (ints, floats, bools, strings, lists,
    ``dtype=tf.float32``, ``shape=[...]``)."""
    node = _node_def()
    node.name, node.op = name, op
    node.input.extend(inputs)
    for key, value in attrs.items():
        _set_attr(node, key, value)
    return node


def create_plugin_node(name: str, op: str, inputs: Sequence[str] = (), **attrs: Any) -> Any:
    """A plugin node (``op`` such as ``GridAnchor_TRT``): written to UFF as ``_<op>`` with
    ``_u_*`` suffixed fields."""
    return create_node(name, op, inputs, **attrs)


class DynamicGraph:
    """A GraphDef to edit in place (a copy of the one given)."""

    def __init__(self, graph_def: Any) -> None:
        self._graph_def = type(graph_def)()
        self._graph_def.CopyFrom(graph_def)

    @property
    def nodes(self) -> list[Any]:
        return list(self._graph_def.node)

    def as_graph_def(self) -> Any:
        out = type(self._graph_def)()
        out.CopyFrom(self._graph_def)
        return out

    # --- finding ----------------------------------------------------------------------
    def find_nodes_by_op(self, op: str) -> list[Any]:
        return [n for n in self._graph_def.node if n.op == op]

    def find_nodes_by_name(self, *names: str) -> list[Any]:
        wanted = set(names)
        return [n for n in self._graph_def.node if n.name in wanted]

    def find_nodes_by_path(self, path: str) -> list[Any]:
        """Nodes in namespace ``path`` (the node ``path`` itself or under ``path/``)."""
        return [n for n in self._graph_def.node if n.name == path or n.name.startswith(path + "/")]

    @property
    def graph_outputs(self) -> list[Any]:
        """Nodes no other node reads."""
        used = {_base(i) for n in self._graph_def.node for i in n.input}
        return [n for n in self._graph_def.node if n.name not in used]

    # --- editing ----------------------------------------------------------------------
    def append(self, node: Any) -> None:
        if any(n.name == node.name for n in self._graph_def.node):
            raise UsageError(f"the graph already has a node {node.name!r}")
        self._graph_def.node.add().CopyFrom(node)

    def _replace_nodes(self, keep: list[Any]) -> None:
        kept = [type(n)() for n in keep]
        for copy, node in zip(kept, keep):
            copy.CopyFrom(node)
        del self._graph_def.node[:]
        self._graph_def.node.extend(kept)

    def remove(self, nodes: Iterable[Any], remove_exclusive_dependencies: bool = False) -> None:
        """Drop ``nodes`` (NodeDefs or names); with ``remove_exclusive_dependencies`` also
        what only they needed. Inputs naming them are removed from the remaining nodes."""
        names = {n if isinstance(n, str) else n.name for n in nodes}
        if remove_exclusive_dependencies:
            names |= self._exclusive_dependencies(names)
        keep = [n for n in self._graph_def.node if n.name not in names]
        for node in keep:
            inputs = [i for i in node.input if _base(i) not in names]
            del node.input[:]
            node.input.extend(inputs)
        self._replace_nodes(keep)

    def _exclusive_dependencies(self, names: set[str]) -> set[str]:
        by_name = {n.name: n for n in self._graph_def.node}
        users: dict[str, set[str]] = {}
        for node in self._graph_def.node:
            for i in node.input:
                users.setdefault(_base(i), set()).add(node.name)
        removed = set(names)
        changed = True
        while changed:
            changed = False
            for name, node in by_name.items():
                if name in removed:
                    continue
                readers = users.get(name, set())
                if readers and readers <= removed:
                    removed.add(name)
                    changed = True
        return removed - names

    def forward_inputs(self, nodes: Iterable[Any]) -> None:
        """Remove ``nodes`` and point their readers at each node's first (data) input."""
        names = {n if isinstance(n, str) else n.name for n in nodes}
        by_name = {n.name: n for n in self._graph_def.node}
        forward: dict[str, str] = {}
        for name in names:
            data = [i for i in by_name[name].input if not i.startswith("^")]
            if not data:
                raise UsageError(f"node {name!r} has no input to forward")
            forward[name] = data[0]

        def target(tensor: str) -> str:
            seen = set()
            while _base(tensor) in forward and _base(tensor) not in seen:
                seen.add(_base(tensor))
                tensor = forward[_base(tensor)]
            return tensor

        keep = [n for n in self._graph_def.node if n.name not in names]
        for node in keep:
            inputs = [("^" + _base(target(i)) if i.startswith("^") else target(i)) for i in node.input]
            del node.input[:]
            node.input.extend(inputs)
        self._replace_nodes(keep)

    def collapse_namespaces(self, namespace_map: Mapping[str, Any], exclude_nodes: Sequence[Any] = (),
                            unique_inputs: bool = True) -> None:
        """Replace every node of each namespace with the node mapped to it.

        The longest matching namespace wins; several namespaces may map to one node (merged).
        The new node reads whatever the namespace read from outside (in graph order, each
        once with ``unique_inputs``); everything that read a namespace node reads it instead.
        """
        excluded = {n if isinstance(n, str) else n.name for n in exclude_nodes}
        spaces = sorted(namespace_map, key=len, reverse=True)

        def owner(name: str) -> str | None:
            if name in excluded:
                return None
            for space in spaces:
                if name == space or name.startswith(space + "/"):
                    return namespace_map[space].name
            return None

        replacements = {namespace_map[s].name: namespace_map[s] for s in spaces}
        owned = {n.name: owner(n.name) for n in self._graph_def.node}
        gathered: dict[str, list[str]] = {name: [] for name in replacements}
        keep: list[Any] = []
        emitted: set[str] = set()
        for node in self._graph_def.node:
            group = owned[node.name]
            if group is None:
                inputs = []
                for i in node.input:
                    inner = owned.get(_base(i))
                    inputs.append(i if inner is None else ("^" + inner if i.startswith("^") else inner))
                del node.input[:]
                node.input.extend(inputs)
                keep.append(node)
                continue
            for i in node.input:
                if i.startswith("^"):
                    continue
                source = owned.get(_base(i))
                value = i if source is None else source
                if source == group:
                    continue
                if unique_inputs and value in gathered[group]:
                    continue
                gathered[group].append(value)
            if group not in emitted:
                emitted.add(group)
                keep.append(replacements[group])  # placeholder position: first node of the namespace
        final = []
        for node in keep:
            if node.name in replacements and node is replacements[node.name]:
                made = type(node)()
                made.CopyFrom(node)
                if not made.input:
                    made.input.extend(gathered[node.name])
                final.append(made)
            else:
                final.append(node)
        missing = [s for s in spaces if namespace_map[s].name not in emitted]
        for space in missing:  # a namespace with no nodes: the node is added as given
            node = namespace_map[space]
            if node.name not in {n.name for n in final}:
                made = type(node)()
                made.CopyFrom(node)
                final.append(made)
        self._replace_nodes(final)
