"""Write UFF graphs: one method per core op, laid out as NVIDIA's converter lays them out.

Const values go to ``referenced_data["weights_<node>"]`` (raw little-endian bytes) and
layouts to ``referenced_data["orders_<a>_<b>..."]`` (a list of dimension orders); node
fields refer to both by ``ref``. Plugin ops are ``_<Op>`` nodes; the "custom" descriptor is
declared when there is one. Outputs are ``MarkOutput_<n>`` nodes.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from trtforge_uff.format import schema
from trtforge_uff.format.values import DimOrder, DType, Ref, to_data

_DTYPE_OF_NUMPY = {
    np.dtype(np.float32): "float32",
    np.dtype(np.float16): "float16",
    np.dtype(np.int32): "int32",
    np.dtype(np.int64): "int64",
    np.dtype(np.int8): "int8",
    np.dtype(np.int16): "int16",
}


class UffBuilder:
    """Collects nodes, weights and layouts; :meth:`meta` returns the ``uff.MetaGraph``."""

    def __init__(self, graph_id: str = "main") -> None:
        self.graph_id = graph_id
        self._nodes: list[tuple[str, str, list[str], dict[str, Any]]] = []
        self._ids: set[str] = set()
        self._referenced: dict[str, Any] = {}
        self._outputs = 0

    # -- generic ------------------------------------------------------------------------
    def node(
        self, node_id: str, op: str, inputs: Sequence[str] = (), fields: Mapping[str, Any] | None = None
    ) -> str:
        if node_id in self._ids:
            raise ValueError(f"UFF node id {node_id!r} is used twice")
        self._ids.add(node_id)
        self._nodes.append((node_id, op, list(inputs), dict(fields or {})))
        return node_id

    def has(self, node_id: str) -> bool:
        return node_id in self._ids

    def orders(self, *layouts: str) -> Ref:
        key = "orders_" + "_".join(layouts)
        self._referenced.setdefault(key, [DimOrder.parse(t) for t in layouts])
        return Ref(key)

    # -- core ops -----------------------------------------------------------------------
    def input(self, node_id: str, shape: Sequence[int], dtype: str = "float32") -> str:
        return self.node(node_id, "Input", (), {"dtype": DType(dtype), "shape": [int(d) for d in shape]})

    def const(self, node_id: str, value: Any) -> str:
        array = np.ascontiguousarray(value)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        elif array.dtype == np.bool_:
            array = array.astype(np.int32)
        name = _DTYPE_OF_NUMPY.get(array.dtype)
        if name is None:
            raise TypeError(f"Const {node_id}: UFF has no dtype for numpy {array.dtype}")
        key = f"weights_{node_id}"
        self._referenced[key] = array.astype(array.dtype.newbyteorder("<")).tobytes()
        return self.node(
            node_id, "Const", (), {"dtype": DType(name), "shape": list(array.shape), "values": Ref(key)}
        )

    def conv(
        self,
        node_id: str,
        x: str,
        filt: str,
        *,
        strides: Sequence[int],
        padding: Any,
        dilation: Sequence[int] | None = None,
        groups: int = 1,
        data_order: str = "N+C",
        filter_order: str = "+CK",
        transpose: bool = False,
        output_shape: Sequence[int] | None = None,
    ) -> str:
        fields: dict[str, Any] = {
            "inputs_orders": self.orders(data_order, filter_order),
            "strides": list(strides),
        }
        if int(groups) != 1:  # NVIDIA's converter writes number_groups for grouped convs only
            fields["number_groups"] = int(groups)
        _padding(fields, padding)
        if dilation is not None:
            fields["dilation"] = list(dilation)
        if output_shape is not None:
            fields["output_shape"] = [int(d) for d in output_shape]
        return self.node(node_id, "ConvTranspose" if transpose else "Conv", (x, filt), fields)

    def pool(
        self,
        node_id: str,
        x: str,
        func: str,
        *,
        kernel: Sequence[int],
        strides: Sequence[int],
        padding: Any,
        data_order: str = "N+C",
    ) -> str:
        fields: dict[str, Any] = {
            "func": func,
            "kernel": list(kernel),
            "strides": list(strides),
            "inputs_orders": self.orders(data_order),
        }
        _padding(fields, padding)
        return self.node(node_id, "Pool", (x,), fields)

    def binary(self, node_id: str, a: str, b: str, func: str) -> str:
        return self.node(node_id, "Binary", (a, b), {"func": func})

    def unary(self, node_id: str, x: str, func: str) -> str:
        return self.node(node_id, "Unary", (x,), {"func": func})

    def activation(self, node_id: str, x: str, func: str, alpha: float | None = None) -> str:
        fields: dict[str, Any] = {"func": func}
        if alpha is not None:
            fields["alpha"] = float(alpha)
        return self.node(node_id, "Activation", (x,), fields)

    def reduce(self, node_id: str, x: str, func: str, axes: Sequence[int], keepdims: bool) -> str:
        return self.node(
            node_id,
            "Reduce",
            (x,),
            {"func": func, "axes": [int(a) for a in axes], "keepdims": bool(keepdims)},
        )

    def batchnorm(
        self,
        node_id: str,
        x: str,
        gamma: str,
        beta: str,
        mean: str,
        variance: str,
        *,
        epsilon: float,
        data_order: str = "N+C",
    ) -> str:
        return self.node(
            node_id,
            "BatchNorm",
            (x, gamma, beta, mean, variance),
            {"epsilon": float(epsilon), "inputs_orders": self.orders(data_order)},
        )

    def concat(self, node_id: str, inputs: Sequence[str], axis: int) -> str:
        return self.node(node_id, "Concat", inputs, {"axis": int(axis)})

    def stack(self, node_id: str, inputs: Sequence[str], axis: int) -> str:
        return self.node(node_id, "Stack", inputs, {"axis": int(axis)})

    def fully_connected(self, node_id: str, x: str, weights: str) -> str:
        return self.node(node_id, "FullyConnected", (x, weights), {"inputs_orders": self.orders("NC", "CK")})

    def softmax(self, node_id: str, x: str, axis: int, data_order: str | None = None) -> str:
        """With ``data_order`` (NVIDIA's form, e.g. ``"N+C"`` for TF): ``axis`` counts in the
        channels-first layout without the batch (0 = the channel axis), as TensorRT's UffParser
        reads it; without: an axis of the tensor as stored (files of older trtforge writers)."""
        fields: dict[str, Any] = {"axis": int(axis)}
        if data_order is not None:
            fields["inputs_orders"] = self.orders(data_order)
        return self.node(node_id, "Softmax", (x,), fields)

    def squeeze(self, node_id: str, x: str, axis: Sequence[int]) -> str:
        return self.node(node_id, "Squeeze", (x,), {"axis": [int(a) for a in axis]})

    def flatten(self, node_id: str, x: str, axis: int = 1) -> str:
        return self.node(node_id, "Flatten", (x,), {"axis": int(axis)})

    def pad(self, node_id: str, x: str, paddings: str) -> str:
        return self.node(node_id, "Pad", (x, paddings), {})

    def reshape(self, node_id: str, x: str, shape: str) -> str:
        return self.node(node_id, "Reshape", (x, shape), {})

    def transpose(self, node_id: str, x: str, perm: str) -> str:
        return self.node(node_id, "Transpose", (x, perm), {})

    def strided_slice(
        self,
        node_id: str,
        x: str,
        begin: str,
        end: str,
        strides: str,
        *,
        begin_mask: int = 0,
        end_mask: int = 0,
        shrink_axis_mask: int = 0,
        ellipsis_mask: int = 0,
        new_axis_mask: int = 0,
    ) -> str:
        return self.node(
            node_id,
            "StridedSlice",
            (x, begin, end, strides),
            {
                "begin_mask": int(begin_mask),
                "end_mask": int(end_mask),
                "shrink_axis_mask": int(shrink_axis_mask),
                "ellipsis_mask": int(ellipsis_mask),
                "new_axis_mask": int(new_axis_mask),
            },
        )

    def gather(self, node_id: str, params: str, indices: str, axis: int = 0) -> str:
        return self.node(node_id, "Gather", (params, indices), {"axis": int(axis)})

    def plugin(self, node_id: str, op: str, inputs: Sequence[str], fields: Mapping[str, Any]) -> str:
        """A custom op node (``_<op>``); ``fields`` keep their ``_u_*`` names."""
        return self.node(node_id, op if op.startswith("_") else f"_{op}", inputs, fields)

    def mark_output(self, x: str) -> str:
        node_id = f"MarkOutput_{self._outputs}"
        self._outputs += 1
        return self.node(node_id, "MarkOutput", (x,), {})

    # -- result -------------------------------------------------------------------------
    def meta(self) -> Any:
        meta = schema.MetaGraph(
            version=schema.META_VERSION, descriptor_core_version=schema.DESCRIPTOR_CORE_VERSION
        )
        custom = any(op.startswith("_") for _, op, _, _ in self._nodes)
        for descriptor_id, version, optional in schema.CORE_DESCRIPTORS:
            if descriptor_id == "custom" and not custom:
                continue
            meta.descriptors.add(id=descriptor_id, version=version, optional=optional)
        graph = meta.graphs.add(id=self.graph_id)
        plugin_ids = {node_id for node_id, op, _, _ in self._nodes if op.startswith("_")}
        arity = output_counts(inp for _, _, inputs, _ in self._nodes for inp in inputs)
        for node_id, op, inputs, fields in self._nodes:
            node = graph.nodes.add(id=node_id, operation=op)
            node.inputs.extend(nvidia_inputs(inputs, plugin_ids, arity))
            for key, value in fields.items():
                node.fields[key].CopyFrom(to_data(value))
        for key, value in self._referenced.items():
            meta.referenced_data[key].CopyFrom(to_data(value))
        return meta


def split_output(name: str) -> tuple[str, int]:
    """``"a:1"`` -> ("a", 1); ``"a"`` -> ("a", 0)."""
    head, _, tail = name.rpartition(":")
    return (head, int(tail)) if head and tail.isdigit() else (name, 0)


def output_counts(references: Any) -> dict[str, int]:
    """Node id -> how many outputs the references use (highest ``:k`` + 1)."""
    counts: dict[str, int] = {}
    for name in references:
        base, index = split_output(name)
        counts[base] = max(counts.get(base, 1), index + 1)
    return counts


def nvidia_inputs(inputs: Sequence[str], plugin_ids: set[str], arity: Mapping[str, int]) -> list[str]:
    """Inputs as NVIDIA's converter writes them: node ids only. A plugin node with several
    outputs (GridAnchor_TRT: numLayers) is referenced once by its bare id where a consumer takes
    all its outputs in order (graphsurgeon keeps unique inputs, the converter strips ``:k``);
    TensorRT's UffParser passes every output of the node there and refuses ``"GridAnchor:1"``
    ("This input (GridAnchor:1) doesn't exist")."""
    out: list[str] = []
    i = 0
    while i < len(inputs):
        base, index = split_output(inputs[i])
        n = arity.get(base, 1)
        if base in plugin_ids and index == 0 and n > 1:
            run = [f"{base}:{k}" if k else base for k in range(n)]
            ours = [inputs[i + k] if i + k < len(inputs) else None for k in range(n)]
            if ours == run or ours == [f"{base}:{k}" for k in range(n)]:
                out.append(base)
                i += n
                continue
        out.append(inputs[i])
        i += 1
    return out


def _padding(fields: dict[str, Any], padding: Any) -> None:
    if isinstance(padding, str):
        if padding.lower() != "valid":  # NVIDIA: implicit_padding is "same" or absent (VALID)
            fields["implicit_padding"] = padding.lower()
    else:
        fields["padding"] = [int(p) for p in padding]
