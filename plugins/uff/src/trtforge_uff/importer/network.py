"""What a UFF converter works with: the network, names, constants, layouts and reshapes.

Values between converters are TensorRT ``ITensor`` objects or numpy arrays (Const nodes and
what is computed from them only). Tensors keep the UFF graph's own layout (for a TF graph:
NHWC), so every network tensor named after a UFF node holds exactly that node's value and
``trtforge.check`` can compare it with TensorFlow; layout-sensitive layers (convolution,
pooling) transpose to the channels-first form TensorRT wants and back, as the node's
``inputs_orders`` say. Layers are named after the node; helper layers ``<node>/<what>`` (core's
``LayerBuilder`` convention, shared with torch2trt and tf_trt).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from trtforge.errors import ConversionError
from trtforge.plugin.network_builder import LayerBuilder

from trtforge_uff import ROUTE
from trtforge_uff.format.values import DimOrder

NUMPY_OF_TRT = {
    "float32": np.float32,
    "float16": np.float16,
    "int32": np.int32,
    "int64": np.int64,
    "int8": np.int8,
    "bool": np.bool_,
}


@dataclass
class ImportContext(LayerBuilder):
    """Per-import state handed to every converter as ``ctx`` (names, dtypes, casts and int32
    narrowing come from core's :class:`~trtforge.plugin.network_builder.LayerBuilder`)."""

    graph: Any = None  # trtforge_uff.format.graph.UffGraph

    @property
    def compute(self) -> str:
        """Float activations and weights: "float16" in strongly typed fp16, else "float32"."""
        return self.policy.compute

    # --- names and errors -------------------------------------------------------------
    def layer_metadata(self) -> str:
        return f"{self.node.id} ({self.node.op})"

    def finish(self, layer: Any, name: str | None = None, output: int = 0) -> Any:
        """Name ``layer`` and its output (``name`` defaults to the node's id)."""
        return super().finish(layer, name or self.node.id, output)

    def sub(self, what: str) -> str:
        return f"{self.node.id}/{what}"

    def error(self, message: str, hint: str | None = None) -> ConversionError:
        where = f"UFF node {self.node.id!r} ({self.node.op})" if self.node is not None else "UFF graph"
        return ConversionError(f"{where}: {message}", route=ROUTE, hint=hint)

    # --- values -----------------------------------------------------------------------
    def is_tensor(self, value: Any) -> bool:
        return isinstance(value, self.trt.ITensor)

    def weights(self, array: Any, dtype: Any = None) -> Any:
        array = np.ascontiguousarray(array, dtype=dtype)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        if array.dtype == np.int64 and not self.tensorrt.facts.int64_tensors:
            array = self.checked_int32(array)
        self.keepalive.append(array)
        return self.trt.Weights(array)

    def constant(self, array: Any, name: str, dtype: Any = None) -> Any:
        array = np.asarray(array, dtype=dtype)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        layer = self.network.add_constant(tuple(int(d) for d in array.shape), self.weights(array))
        return self.finish(layer, name)

    def tensor(self, value: Any, name: str, like: Any = None) -> Any:
        """``value`` as an ITensor; numpy constants take ``like``'s dtype."""
        if self.is_tensor(value):
            return value
        dtype = None
        if like is not None:
            dtype = NUMPY_OF_TRT.get(self.dtype_name(like))
        return self.constant(np.asarray(value, dtype=dtype), name)

    def float_weights(self, array: Any) -> Any:
        """Layer weights (kernels) in the compute dtype."""
        return self.weights(np.asarray(array, dtype=NUMPY_OF_TRT[self.compute]))

    def const_input(self, value: Any, what: str) -> np.ndarray:
        if self.is_tensor(value):
            raise self.error(
                f"its {what} must be a constant (a Const node), it is a computed tensor",
                hint="freeze the graph so that this input is a constant",
            )
        return np.asarray(value)

    # --- shapes -----------------------------------------------------------------------
    @staticmethod
    def shape(value: Any) -> tuple[int, ...]:
        return tuple(int(d) for d in value.shape)

    def shuffle(
        self,
        x: Any,
        *,
        perm: Sequence[int] | None = None,
        dims: Sequence[int] | None = None,
        name: str | None = None,
        copy_zeros: bool = False,
    ) -> Any:
        """Transpose by ``perm`` (output axis i = input axis perm[i]) and/or reshape to ``dims``
        (-1 infers one size; 0 copies the input's size there only with ``copy_zeros``)."""
        layer = self.network.add_shuffle(x)
        if perm is not None:
            layer.first_transpose = tuple(int(p) for p in perm)
        if dims is not None:
            layer.reshape_dims = tuple(int(d) for d in dims)
            layer.zero_is_placeholder = copy_zeros
        return self.finish(layer, name)

    def to_layout(self, x: Any, order: DimOrder | None, canonical: bool) -> Any:
        """Storage layout -> channels-first (``canonical=True``) or back."""
        if order is None:
            return x
        rank = len(x.shape)
        storage = order.for_rank(rank)
        if storage == list(range(rank)):
            return x
        perm = [storage.index(c) for c in range(rank)] if canonical else storage
        return self.shuffle(x, perm=perm, name=self.sub("to_nchw" if canonical else "from_nchw"))

    def broadcast_pair(self, a: Any, b: Any) -> tuple[Any, Any]:
        """Two values as ITensors of equal rank (numpy broadcasting: leading 1s)."""
        like = a if self.is_tensor(a) else b
        a = self.tensor(a, self.sub("a"), like)
        b = self.tensor(b, self.sub("b"), like)
        ra, rb = len(a.shape), len(b.shape)
        if ra < rb:
            a = self.shuffle(a, dims=[1] * (rb - ra) + list(self.shape(a)), name=self.sub("a_rank"))
        elif rb < ra:
            b = self.shuffle(b, dims=[1] * (ra - rb) + list(self.shape(b)), name=self.sub("b_rank"))
        return a, b


def normalize_axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


def axes_mask(axes: Sequence[int], rank: int) -> int:
    mask = 0
    for axis in axes:
        mask |= 1 << normalize_axis(int(axis), rank)
    return mask


def is_constant(graph: Any, name: str) -> bool:
    """True when node ``name``'s value is known before the network runs: Const nodes, GridAnchor
    priors, and what only those feed (the converters compute it in numpy)."""
    return name.rsplit(":", 1)[0] in graph.constant_nodes() or name in graph.constant_nodes()


def constant_inputs(*positions_and_names: tuple[int, str]) -> Any:
    """A converter validator: the inputs at these positions must be constants."""

    def validator(node: Any, graph: Any) -> bool | str:
        computed = [
            what
            for position, what in positions_and_names
            if position < len(node.inputs) and not is_constant(graph, node.inputs[position])
        ]
        return not computed or f"its {', '.join(computed)} must be constant (Const nodes), not computed"

    validator.__qualname__ = "constant_inputs"
    return validator
