"""A read-only Python view of a UFF graph: nodes with decoded fields, refs resolved.

Converters, the validator and ``trtforge uff inspect`` read UFF through this view, so none
of them deals with ``uff.Data`` oneofs or ``referenced_data`` indirection.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from trtforge_uff.format import schema
from trtforge_uff.format.values import DimOrder, DType, Ref, from_data

NUMPY_DTYPES = {"int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
                "float16": np.float16, "float32": np.float32}
OUTPUT_OP = "MarkOutput"


@dataclass
class UffNode:
    id: str
    op: str
    inputs: list[str]
    fields: dict[str, Any]
    raw_fields: dict[str, Any] = field(default_factory=dict)  # before refs were resolved

    @property
    def is_plugin(self) -> bool:
        """Custom ops (``_<Op>``): plugin nodes of the "custom" descriptor."""
        return self.op.startswith("_")

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


@dataclass
class UffGraph:
    """One graph of a MetaGraph (the first, ``main``, unless asked otherwise)."""

    meta: Any
    id: str
    nodes: list[UffNode]

    @classmethod
    def of(cls, meta: Any, graph_index: int = 0) -> "UffGraph":
        graph = meta.graphs[graph_index]
        referenced = {key: from_data(value) for key, value in meta.referenced_data.items()}
        nodes = []
        for node in graph.nodes:
            raw = {key: from_data(value) for key, value in node.fields.items()}
            resolved = {key: _resolve(value, referenced) for key, value in raw.items()}
            nodes.append(UffNode(node.id, node.operation, list(node.inputs), resolved, raw))
        return cls(meta, graph.id, nodes)

    def __iter__(self) -> Iterator[UffNode]:
        return iter(self.nodes)

    def by_id(self) -> dict[str, UffNode]:
        return {n.id: n for n in self.nodes}

    def inputs(self) -> list[UffNode]:
        return [n for n in self.nodes if n.op == "Input"]

    def outputs(self) -> list[str]:
        """Ids of the nodes marked as outputs, in MarkOutput order."""
        return [n.inputs[0] for n in self.nodes if n.op == OUTPUT_OP and n.inputs]

    def plugin_nodes(self) -> list[UffNode]:
        return [n for n in self.nodes if n.is_plugin]

    def const_value(self, node: UffNode) -> np.ndarray:
        """A ``Const`` node's value as numpy, in its stored shape."""
        dtype = node.get("dtype")
        shape = [int(d) for d in node.get("shape", [])]
        values = node.get("values")
        name = dtype.name if isinstance(dtype, DType) else "float32"
        np_dtype = NUMPY_DTYPES.get(name, np.float32)
        if isinstance(values, bytes):
            array = np.frombuffer(values, dtype=np_dtype)
        elif isinstance(values, list):
            array = np.asarray(values, dtype=np_dtype)
        else:
            array = np.zeros(0, dtype=np_dtype)
        count = int(np.prod(shape)) if shape else 1
        if array.size == 1 and count != 1:
            array = np.full(count, array.reshape(-1)[0], dtype=np_dtype)
        return array.reshape(shape).copy()


def _resolve(value: Any, referenced: dict[str, Any]) -> Any:
    seen = set()
    while isinstance(value, Ref) and value.key in referenced and value.key not in seen:
        seen.add(value.key)
        value = referenced[value.key]
    return value


def meta_graphs(meta: Any) -> list[str]:
    return [g.id for g in meta.graphs]


__all__ = ["UffGraph", "UffNode", "DimOrder", "DType", "Ref", "schema"]
