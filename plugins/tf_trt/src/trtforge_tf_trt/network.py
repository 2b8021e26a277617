"""What a converter works with: the TensorRT network, names, constants, dtypes, layouts.

Values flowing between converters are numpy arrays (constants, folded by TensorFlow before
conversion) and :class:`Act` (a run-time TensorRT tensor). An ``Act`` carries a layout
permutation: TensorFlow models are NHWC, TensorRT's convolutions and pools are fastest NCHW,
so a 4-D activation may be *held* NCHW while it still *means* the NHWC tensor TensorFlow has.
``perm[k]`` is the TensorFlow (logical) axis that physical axis ``k`` holds. Convolutions,
pools, batch norms and bias adds ask for NCHW; elementwise ops, pads, reductions, concats and
softmax work in whatever layout comes (axes and constants are permuted to match); TensorFlow
``Transpose`` nodes only change the permutation (no layer). Ops that need TensorFlow's own
order (Reshape, MatMul, slicing) ask for :meth:`NetworkContext.logical`. Transposes therefore
appear only where the layout really changes, each made once per tensor and layout, and a
transpose pair that cancels is never built.

Naming: the layer that produces a node's value and its tensor are named after the TensorFlow
node (``conv1/Conv2D``); helper layers are ``<node>/<what>``; casts ``<tensor>/to_<dtype>``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from trtforge.errors import ConversionError
from trtforge.plugin.network_builder import FLOAT_NAMES, LayerBuilder

from trtforge_tf_trt import ROUTE

log = logging.getLogger(__name__)

NHWC_AS_NCHW = (0, 3, 1, 2)  # physical NCHW axes hold logical N, C(3), H(1), W(2)


@dataclass(frozen=True, eq=False)
class Act:
    """A run-time tensor and the logical axis each of its physical axes holds."""

    tensor: Any
    perm: tuple[int, ...] | None = None

    @property
    def rank(self) -> int:
        return len(self.tensor.shape)

    @property
    def layout(self) -> tuple[int, ...]:
        return self.perm if self.perm is not None else tuple(range(self.rank))

    @property
    def is_logical(self) -> bool:
        return self.perm is None or self.perm == tuple(range(len(self.perm)))

    def physical_axis(self, logical_axis: int) -> int:
        axis = logical_axis % self.rank
        return self.layout.index(axis)

    def logical_shape(self) -> tuple[int, ...]:
        physical = tuple(int(d) for d in self.tensor.shape)
        shape = [0] * len(physical)
        for k, axis in enumerate(self.layout):
            shape[axis] = physical[k]
        return tuple(shape)


def same_layout(a: Act, b: Act) -> bool:
    return a.layout == b.layout


@dataclass
class NetworkContext(LayerBuilder):
    """Per-conversion state handed to every converter as ``net`` (names, dtypes, casts and
    Q/DQ come from core's :class:`~trtforge.plugin.network_builder.LayerBuilder`)."""

    transposes: int = 0
    _layouts: dict[tuple[str, tuple[int, ...]], Any] = field(default_factory=dict)

    def layer_metadata(self) -> str:
        return f"{self.node.name} ({self.node.op})"

    def here(self, what: str = "") -> str:
        """A name for a layer of the node being converted."""
        base = self.node.name if self.node is not None else "tf_trt"
        return f"{base}/{what}" if what else base

    def error(self, message: str, hint: str | None = None) -> ConversionError:
        where = f"node {self.node.name} ({self.node.op}): " if self.node is not None else ""
        return ConversionError(f"{where}{message}", route=ROUTE, hint=hint)

    # --- dtypes ---------------------------------------------------------------------
    def compute_dtype(self, dtype: str) -> str:
        """The dtype a TensorFlow float of ``dtype`` has inside the network."""
        return self.policy.compute if dtype in FLOAT_NAMES + ("float64",) else self.native(dtype)

    # --- constants ------------------------------------------------------------------
    def host_array(self, value: Any, dtype: str | None = None) -> np.ndarray:
        """``value`` as a contiguous numpy array in ``dtype`` (default: the compute dtype for
        floats, the native index type for int64)."""
        array = np.asarray(value)
        if dtype is None:
            dtype = self.policy.compute if array.dtype.kind == "f" else str(array.dtype)
        dtype = self.native(dtype)
        if dtype == "bool":
            return np.ascontiguousarray(array.astype(np.bool_))
        if dtype == "int32" and array.dtype == np.int64:
            return np.ascontiguousarray(self.checked_int32(array))
        if dtype == "bfloat16":
            raise self.error("bfloat16 constants go through constant()")
        return np.ascontiguousarray(array.astype(dtype))

    def weights(self, value: Any, dtype: str | None = None) -> Any:
        """``trt.Weights`` of an array in ``dtype`` (default: the compute dtype for floats)."""
        array = self.host_array(value, dtype)
        self.keepalive.append(array)
        return self.trt.Weights(array)

    def constant(self, value: Any, name: str, dtype: str | None = None) -> Any:
        """An ITensor holding ``value`` in ``dtype`` (floats default to the compute dtype)."""
        array = np.asarray(value)
        if dtype is None and array.dtype.kind == "f":
            dtype = self.policy.compute
        shape = tuple(int(d) for d in array.shape)
        if dtype == "bfloat16":
            # numpy has no bf16: an FP32 constant and a cast (TensorRT folds it), which keeps
            # the network readable by trtforge.verify.snapshot.
            layer = self.network.add_constant(shape, self.weights(array, "float32"))
            return self.cast(self.finish(layer, f"{name}/float32"), "bfloat16", name)
        layer = self.network.add_constant(shape, self.weights(array, dtype))
        return self.finish(layer, name)

    def is_act(self, value: Any) -> bool:
        return isinstance(value, Act)

    # --- layouts --------------------------------------------------------------------
    def in_layout(self, act: Act, layout: Sequence[int], name: str | None = None) -> Any:
        """``act``'s tensor rearranged so physical axis ``k`` holds logical axis
        ``layout[k]`` (one Shuffle, made once per tensor and layout)."""
        layout = tuple(layout)
        if act.layout == layout:
            return act.tensor
        key = (act.tensor.name, layout)
        if key not in self._layouts:
            order = tuple(act.layout.index(axis) for axis in layout)
            layer = self.network.add_shuffle(act.tensor)
            layer.first_transpose = order
            self.transposes += 1
            self._layouts[key] = self.finish(layer, name or f"{act.tensor.name}/layout{''.join(map(str, layout))}")
        return self._layouts[key]

    def logical(self, value: Any, name: str | None = None, like: Any = None) -> Any:
        """A value as an ITensor in TensorFlow's own axis order (constants become layers)."""
        if isinstance(value, Act):
            return self.in_layout(value, tuple(range(value.rank)), name or f"{value.tensor.name}/tf_order")
        return self.constant_like(value, name or self.here("const"), like)

    def nchw(self, act: Act) -> Act:
        """A 4-D NHWC activation held as NCHW."""
        return Act(self.in_layout(act, NHWC_AS_NCHW, f"{act.tensor.name}/nchw"), NHWC_AS_NCHW)

    def constant_like(self, value: Any, name: str, like: Any = None, dtype: str | None = None) -> Any:
        """A constant in the dtype of ``like`` (an ITensor or Act) or ``dtype``."""
        if dtype is None and like is not None:
            tensor = like.tensor if isinstance(like, Act) else like
            dtype = self.dtype_name(tensor)
        return self.constant(value, name, dtype)

    def constant_in_layout(self, value: Any, act: Act, name: str) -> Any:
        """A constant broadcast against ``act`` (numpy rules, in TensorFlow's axes), rearranged
        into ``act``'s layout: the NHWC bias ``(C,)`` of an NCHW-held tensor becomes
        ``(1, C, 1, 1)``."""
        array = np.asarray(value)
        rank = act.rank
        if array.ndim > rank:
            raise self.error(f"a constant of rank {array.ndim} broadcasts against a rank-{rank} tensor")
        array = array.reshape((1,) * (rank - array.ndim) + array.shape)
        if not act.is_logical:
            array = np.transpose(array, act.layout)
        return self.constant_like(array, name, like=act)

    # --- shapes ---------------------------------------------------------------------
    def shape(self, tensor: Any) -> tuple[int, ...]:
        tensor = tensor.tensor if isinstance(tensor, Act) else tensor
        return tuple(int(d) for d in tensor.shape)

    def reshape(self, tensor: Any, dims: Sequence[int], name: str) -> Any:
        layer = self.network.add_shuffle(tensor)
        layer.reshape_dims = tuple(int(d) for d in dims)
        layer.zero_is_placeholder = False
        return self.finish(layer, name)

    def shape_tensor(self, tensor: Any, name: str) -> Any:
        """The run-time shape of ``tensor`` as a 1-D integer tensor (the index dtype)."""
        layer = self.network.add_shape(tensor)
        out = self.finish(layer, name)
        return self.cast(out, self.native("int64"), f"{name}/index")
