"""What every layer-by-layer route (torch2trt, tf_trt, uff) builds networks with: the precision
policy, unique layer names, network inputs and outputs, dtypes as the installed TensorRT holds
them, int64 constants narrowed to int32, casts and Q/DQ pairs.

A route's context (torch2trt's and tf_trt's ``NetworkContext``, uff's ``ImportContext``)
subclasses :class:`LayerBuilder` and adds what is its own: how constants become weights (torch
tensors, numpy arrays), layouts, how a layer names the node it came from, errors.

Naming convention every route follows: the layer producing a node's value and that value's
tensor are named after the node; helper layers are ``<node>/<what>``; casts ``<tensor>/to_<dtype>``;
Q/DQ ``<tensor>/quantize`` and ``<tensor>/dequantize``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from trtforge.errors import ConversionError
from trtforge.conversion.specs import Precision

FLOAT_NAMES = ("float32", "float16", "bfloat16")

_COMPUTE = {
    Precision.FP32: "float32",
    Precision.FP16: "float16",
    Precision.BF16: "bfloat16",
    Precision.INT8: "float32",  # an FP32 network plus explicit Q/DQ pairs
}


@dataclass(frozen=True)
class PrecisionPolicy:
    """Strongly typed networks: the precision lives in the graph's dtypes (core's adapter turns
    the same network into builder flags on TensorRT 8.x, which types weakly)."""

    precision: Precision
    compute: str  # dtype of floating activations and weights inside the network
    keep_io_fp32: bool = True  # network inputs/outputs keep FP32 under fp16/bf16

    @classmethod
    def of(cls, precision: Precision | str, keep_io_fp32: bool = True) -> "PrecisionPolicy":
        parsed = Precision.parse(precision)
        return cls(parsed, _COMPUTE[parsed], keep_io_fp32)

    @property
    def reduced(self) -> bool:
        return self.compute != "float32"

    @property
    def quantized(self) -> bool:
        return self.precision is Precision.INT8


@dataclass
class LayerBuilder(ABC):
    """Per-conversion state a route's converters share: the network, the adapter, the policy."""

    network: Any
    tensorrt: Any  # trtforge.tensorrt.trt.TensorRT adapter
    policy: PrecisionPolicy
    quantizer: Any = None  # the route's INT8 quantizer
    node: Any = None  # the node being converted
    keepalive: list[Any] = field(default_factory=list)  # host arrays TensorRT weights point into
    _names: set[str] = field(default_factory=set, init=False, repr=False)
    _layers: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    @property
    def trt(self) -> Any:
        return self.tensorrt.module

    def layer_metadata(self) -> str | None:
        """What a layer records of the node it came from (layer metadata, shown by profilers)."""
        return None

    def error(self, message: str, hint: str | None = None) -> ConversionError:
        """An error about the node being converted (routes say which node and route)."""
        return ConversionError(message, hint=hint)

    # --- names ----------------------------------------------------------------------
    def reserve(self, names: Iterable[str]) -> None:
        """Keep ``names`` (e.g. the network's outputs) out of :meth:`unique`'s reach."""
        self._names.update(names)

    def unique(self, name: str) -> str:
        candidate, k = name, 1
        while candidate in self._names:
            k += 1
            candidate = f"{name}#{k}"
        self._names.add(candidate)
        return candidate

    def finish(self, layer: Any, name: str, output: int = 0) -> Any:
        """Name ``layer`` and its output ``name`` (unique) and return that output."""
        unique = self.unique(name)
        layer.name = unique
        metadata = self.layer_metadata() if self.node is not None else None
        if metadata:
            try:
                layer.metadata = metadata
            except AttributeError:  # TensorRT 8.6 layers have no metadata
                pass
        tensor = layer.get_output(output)
        tensor.name = unique
        self._layers[unique] = layer
        return tensor

    def rename(self, tensor: Any, name: str) -> None:
        """Give a finished tensor (and the layer named with it) another unique name."""
        old = tensor.name
        new = self.unique(name)
        layer = self._layers.pop(old, None)
        if layer is not None:
            layer.name = new
            self._layers[new] = layer
        tensor.name = new
        self._names.discard(old)

    # --- network inputs and outputs --------------------------------------------------
    def add_input(self, name: str, dtype: str, shape: Sequence[int]) -> Any:
        """Network input ``name`` (its name reserved) in ``dtype``; a float input of another
        dtype than the compute dtype is cast to it (``<name>/to_<dtype>``), so the network's
        I/O keeps the model's dtypes while the inside computes in the policy's."""
        tensor = self.network.add_input(name, self.trt_dtype(dtype), tuple(int(d) for d in shape))
        self.reserve([name])
        compute = self.policy.compute
        if dtype in FLOAT_NAMES and dtype != compute:
            return self.cast(tensor, compute, f"{name}/to_{compute}")
        return tensor

    def is_network_io(self, tensor: Any) -> bool:
        """True where ``tensor`` is a network input or already an output: TensorRT marks a tensor
        once and never an input, so such a value needs a copy to become (another) output."""
        return bool(tensor.is_network_input) or any(
            self.network.get_output(i).name == tensor.name for i in range(self.network.num_outputs))

    def mark_output(self, tensor: Any, name: str | None = None, *, copy: str | None = None) -> Any:
        """Mark ``tensor`` as a network output (renamed ``name`` where given) and return it.
        An input or already-marked tensor is copied by an identity layer first, named ``copy``
        (made unique) or, by default, ``name`` as it is (an output's name is reserved for it)."""
        if self.is_network_io(tensor):
            layer = self.network.add_identity(tensor)
            if copy is not None:
                tensor = self.finish(layer, copy)
            elif name is not None:
                layer.name = name
                tensor = layer.get_output(0)
                self._layers[name] = layer
            else:
                raise ValueError("mark_output of an input or output needs name or copy")
        if name is not None and tensor.name != name:
            tensor.name = name
        self.network.mark_output(tensor)
        return tensor

    # --- dtypes ---------------------------------------------------------------------
    def dtype_name(self, tensor: Any) -> str:
        return self.tensorrt.dtype_name(tensor.dtype)

    def native(self, dtype: str) -> str:
        """``dtype`` as the installed TensorRT holds it: int64 -> int32 before TensorRT 10
        (which has no INT64 tensors), float64 -> float32."""
        if dtype == "int64":
            return self.tensorrt.facts.index_dtype
        if dtype == "float64":
            return "float32"
        return dtype

    def trt_dtype(self, name: str) -> Any:
        return self.tensorrt.trt_dtype(self.native(name))

    def is_float(self, tensor: Any) -> bool:
        return self.dtype_name(tensor) in FLOAT_NAMES

    def cast(self, tensor: Any, dtype: str, name: str | None = None) -> Any:
        if self.dtype_name(tensor) == self.native(dtype):
            return tensor
        layer = self.network.add_cast(tensor, self.trt_dtype(dtype))
        return self.finish(layer, name or f"{tensor.name}/to_{dtype}")

    def checked_int32(self, array: Any) -> Any:
        """``array`` (integers, numpy or a CPU torch tensor) as int32 numpy; refused where a value
        does not fit, rather than TensorRT wrapping it silently."""
        import numpy as np

        values = np.asarray(array)
        if values.size:
            low, high = int(values.min()), int(values.max())
            if low < -2**31 or high > 2**31 - 1:
                facts = self.tensorrt.facts
                raise self.error(
                    f"an integer constant holds values outside int32 ([{low}, {high}])"
                    + ("" if facts.int64_tensors else f", and {facts.label} has no INT64 tensors"),
                    hint="keep integer constants within int32, or use TensorRT 10 or newer")
        return values.astype(np.int32)

    @abstractmethod
    def constant(self, value: Any, name: str, dtype: str | None = None) -> Any:
        """An ITensor holding ``value`` in ``dtype``: each route says how its constants (torch
        tensors, numpy arrays) become TensorRT weights."""

    # --- INT8 -----------------------------------------------------------------------
    def qdq(self, x: Any, scale: Any, axis: int | None, name: str) -> Any:
        """Quantize ``x`` to INT8 with ``scale`` (per tensor, or per channel along ``axis``)
        and dequantize it back to its dtype."""
        import numpy as np

        adapter = self.tensorrt
        scale_t = self.constant(np.asarray(scale, np.float32), f"{name}/scale", "float32")
        q = adapter.add_quantize(self.network, x, scale_t, "int8")
        if axis is not None:
            q.axis = axis
        q_out = self.finish(q, f"{name}/quantize")
        wanted = self.dtype_name(x)
        dq = adapter.add_dequantize(self.network, q_out, scale_t, wanted)
        if axis is not None:
            dq.axis = axis
        if adapter.dequantized_dtype(wanted) == wanted:
            return self.finish(dq, f"{name}/dequantize")
        # TensorRT 8.x dequantizes to FP32 only: back to the input's dtype after it.
        return self.cast(self.finish(dq, f"{name}/dequantize/float32"), wanted, f"{name}/dequantize")
