"""What a TF -> UFF op converter works with: the TF node's inputs, attributes and constants.

UFF node ids are the TF node names, so a network built from the UFF file names its tensors
after the TF nodes and ``trtforge.check`` can fetch the same names from TensorFlow. Helper
nodes a converter adds are named ``<tf node>/uff_<what>``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trtforge.errors import ConversionError

from trtforge_uff import ROUTE
from trtforge_uff.format.builder import UffBuilder

# TF DataType enum values (tensorflow/core/framework/types.proto) -> UFF dtype names
TF_DTYPES = {1: "float32", 3: "int32", 9: "int64", 19: "float16", 6: "int8", 5: "int16"}
FORWARDED = ("Identity", "StopGradient", "Snapshot", "PreventGradient")


def tensor_node(name: str) -> tuple[str, int]:
    """``"^a"``/``"a"``/``"a:1"`` -> (node, output index)."""
    name = name.lstrip("^")
    head, _, tail = name.rpartition(":")
    if head and tail.isdigit():
        return head, int(tail)
    return name, 0


@dataclass
class TfContext:
    builder: UffBuilder
    nodes: dict[str, Any]  # TF node name -> NodeDef
    aliases: dict[str, str] = field(default_factory=dict)  # TF tensor -> UFF input name
    retyped: set[str] = field(default_factory=set)  # uint8/bool placeholders written as float32
    node: Any = None

    # --- inputs -----------------------------------------------------------------------
    def data_inputs(self, node: Any | None = None) -> list[str]:
        node = node or self.node
        return [i for i in node.input if not i.startswith("^")]

    def resolve(self, tf_input: str) -> tuple[Any, int]:
        """The NodeDef (and output index) a TF input names, through Identity-like nodes."""
        name, index = tensor_node(tf_input)
        node = self.nodes[name]
        while node.op in FORWARDED and index == 0:
            name, index = tensor_node(self.data_inputs(node)[0])
            node = self.nodes[name]
        return node, index

    def uff_input(self, tf_input: str) -> str:
        """The UFF input name of a TF tensor."""
        node, index = self.resolve(tf_input)
        name = node.name if index == 0 else f"{node.name}:{index}"
        if node.op == "Const" and not self.builder.has(node.name):
            # Written on first use, so every Const precedes its users in the file.
            self.builder.const(node.name, make_ndarray(node.attr["value"].tensor))
        return self.aliases.get(name, name)

    def const(self, tf_input: str) -> np.ndarray | None:
        """The value of a TF input when it is a Const (through Identity), else None."""
        node, index = self.resolve(tf_input)
        if node.op != "Const" or index:
            return None
        return make_ndarray(node.attr["value"].tensor)

    def input(self, position: int) -> str:
        return self.uff_input(self.data_inputs()[position])

    def const_input(self, position: int, what: str) -> np.ndarray:
        value = self.const(self.data_inputs()[position])
        if value is None:
            raise self.error(f"its {what} (input {position}) must be a constant",
                             hint="freeze the graph (constants folded) before converting")
        return value

    # --- attributes -------------------------------------------------------------------
    def attr(self, name: str, default: Any = None) -> Any:
        if name not in self.node.attr:
            return default
        value = self.node.attr[name]
        kind = value.WhichOneof("value")
        if kind == "list":
            lst = value.list
            for field_name in ("i", "f", "s", "b", "type"):
                items = list(getattr(lst, field_name))
                if items:
                    return [v.decode() if isinstance(v, bytes) else v for v in items]
            return []
        if kind == "s":
            return value.s.decode()
        if kind == "shape":
            if value.shape.unknown_rank:
                return None
            return [int(d.size) for d in value.shape.dim]
        return getattr(value, kind) if kind else default

    def data_format(self) -> str:
        return self.attr("data_format", "NHWC") or "NHWC"

    # --- results ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.node.name

    def sub(self, what: str) -> str:
        return f"{self.node.name}/uff_{what}"

    def constant(self, value: Any, what: str) -> str:
        return self.builder.const(self.sub(what), np.asarray(value))

    def error(self, message: str, hint: str | None = None) -> ConversionError:
        return ConversionError(f"TF node {self.node.name!r} ({self.node.op}): {message}", route=ROUTE,
                               hint=hint or "rewrite this part of the graph, or replace it with a plugin "
                               "node (trtforge_uff.surgery)")


def make_ndarray(tensor: Any) -> np.ndarray:
    import tensorflow as tf

    return np.asarray(tf.make_ndarray(tensor))
