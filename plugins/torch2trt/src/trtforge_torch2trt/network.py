"""What a converter works with: the TensorRT network, naming, constants, dtypes, precision.

Values flowing between converters are TensorRT ``ITensor`` objects (activations), ``torch.Tensor``
(constants: parameters, buffers and anything computed only from them, folded in PyTorch),
Python numbers and lists, and :class:`ShapeScalar` (a symbolic size such as a dynamic batch,
held as a 1-element INT64 shape tensor; INT32 on TensorRT < 10, which has no INT64 tensors:
:meth:`NetworkContext.native` maps every "int64" a converter asks for to the index type the
installed TensorRT has, and constants are checked to fit).

Naming convention: the layer that produces a node's value and that value's ITensor are both
named after the FX node (``convolution_3``); helper layers a converter adds on the way are
named ``<node>/<what>`` (``convolution_3/bias``). Casts the precision policy inserts are
``<tensor>/to_<dtype>``. So a tensor named like an FX node holds exactly that node's value.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from trtforge.errors import ConversionError
from trtforge.plugin.network_builder import FLOAT_NAMES, LayerBuilder

from trtforge_torch2trt import ROUTE

log = logging.getLogger(__name__)

TORCH_TO_TRT = {
    "torch.float32": "float32", "torch.float16": "float16", "torch.bfloat16": "bfloat16",
    "torch.int32": "int32", "torch.int64": "int64", "torch.bool": "bool", "torch.int8": "int8",
    "torch.uint8": "uint8", "torch.float64": "float32",
}


@dataclass(frozen=True)
class ShapeScalar:
    """A symbolic integer (``x.size(0)`` of a dynamic dim) as a [1]-shaped INT64 tensor."""

    tensor: Any


@dataclass
class NetworkContext(LayerBuilder):
    """Per-conversion state handed to every converter as ``net`` (names, dtypes, casts and
    Q/DQ come from core's :class:`~trtforge.plugin.network_builder.LayerBuilder`)."""

    folds: Any = None  # trtforge_torch2trt.fold.BatchNormFolds; None: none folded

    def quantizing(self) -> Any:
        """The INT8 quantizer for the node being converted; None at other precisions and for
        nodes accuracy control keeps in float."""
        quantizer = self.quantizer
        if quantizer is None or (self.node is not None and self.node.name in quantizer.float_nodes):
            return None
        return quantizer

    def layer_metadata(self) -> str:
        return self.describe_node()

    def describe_node(self) -> str:
        from trtforge_torch2trt.capture import module_path

        node = self.node
        return f"{node.name} = {node.target}(...) at {module_path(node)}"

    def where(self) -> str:
        if self.node is None:
            return ""
        from trtforge_torch2trt.capture import module_path

        return f"node {self.node.name} ({self.node.target}) at {module_path(self.node)}"

    def error(self, message: str, hint: str | None = None) -> ConversionError:
        return ConversionError(f"{self.where()}: {message}", route=ROUTE, hint=hint)

    # --- dtypes ---------------------------------------------------------------------
    # --- constants ------------------------------------------------------------------
    def weights(self, value: Any, dtype: str | None = None) -> Any:
        """``trt.Weights`` of a tensor/array in ``dtype`` (default: the compute dtype for floats)."""
        import numpy as np

        array, dtype = self._host_array(value, dtype)
        self.keepalive.append(array)
        if dtype == "bfloat16":
            return self.trt.Weights(self.trt.bfloat16, array.ctypes.data, array.size)
        return self.trt.Weights(np.ascontiguousarray(array))

    def _host_array(self, value: Any, dtype: str | None) -> tuple[Any, str]:
        import numpy as np
        import torch

        tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
        tensor = tensor.detach().cpu()
        source = TORCH_TO_TRT.get(str(tensor.dtype), "float32")
        if dtype is None:
            dtype = self.policy.compute if source in FLOAT_NAMES else source
        if dtype == "bfloat16":
            return tensor.to(torch.bfloat16).contiguous().view(torch.int16).numpy(), dtype
        if dtype == "bool":
            return tensor.to(torch.bool).contiguous().numpy(), dtype
        dtype = self.native(dtype)  # int64 -> int32 on TensorRT < 10
        if source == "int64" and dtype == "int32":
            self.checked_int32(tensor.numpy())  # refuses values outside int32
        torch_dtype = getattr(torch, dtype)
        return tensor.to(torch_dtype).contiguous().numpy(), dtype

    def constant(self, value: Any, name: str, dtype: str | None = None) -> Any:
        """An ITensor holding ``value`` (a tensor, array or number) in ``dtype``."""
        import torch

        tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(value)
        shape = tuple(int(d) for d in tensor.shape)
        if dtype is None and tensor.is_floating_point():
            dtype = self.policy.compute
        if dtype == "bfloat16":
            # numpy has no bf16: store FP32 and cast in the network (TensorRT folds the cast),
            # which also keeps the network readable by trtforge.verify.snapshot.
            layer = self.network.add_constant(shape, self.weights(tensor, "float32"))
            return self.cast(self.finish(layer, f"{name}/float32"), "bfloat16", name)
        layer = self.network.add_constant(shape, self.weights(tensor, dtype))
        return self.finish(layer, name)

    def tensor(self, value: Any, name: str, like: Any = None, dtype: str | None = None) -> Any:
        """``value`` as an ITensor: ITensors pass through, constants match ``like``'s dtype."""
        if isinstance(value, ShapeScalar):
            return value.tensor
        if self.is_itensor(value):
            return value
        if dtype is None and like is not None:
            dtype = self.dtype_name(like)
        return self.constant(value, name, dtype)

    def is_itensor(self, value: Any) -> bool:
        return isinstance(value, self.trt.ITensor)

    # --- shapes ---------------------------------------------------------------------
    def shape(self, tensor: Any) -> tuple[int, ...]:
        return tuple(int(d) for d in tensor.shape)

    def rank(self, tensor: Any) -> int:
        return len(tensor.shape)

    def shape_tensor(self, tensor: Any, name: str) -> Any:
        """The runtime shape of ``tensor`` as an INT64 1-D tensor."""
        layer = self.network.add_shape(tensor)
        out = self.finish(layer, name)
        return self.cast(out, "int64", f"{name}/int64")

    def dims_tensor(self, dims: Sequence[Any], name: str) -> Any:
        """A 1-D INT64 tensor from a mix of ints and :class:`ShapeScalar`/ITensor dims."""
        parts: list[Any] = []
        run: list[int] = []
        for k, d in enumerate(dims):
            if isinstance(d, ShapeScalar) or self.is_itensor(d):
                if run:
                    parts.append(self.constant(run, f"{name}/dims{k}", "int64"))
                    run = []
                t = d.tensor if isinstance(d, ShapeScalar) else d
                t = self.cast(t, "int64", f"{name}/dim{k}_int64")
                if len(t.shape) == 0:
                    t = self.reshape_static(t, (1,), f"{name}/dim{k}_1d")
                parts.append(t)
            else:
                run.append(int(d))
        if run:
            parts.append(self.constant(run, f"{name}/dims_tail", "int64"))
        if len(parts) == 1:
            return parts[0]
        layer = self.network.add_concatenation(parts)
        layer.axis = 0
        return self.finish(layer, f"{name}/dims")

    def reshape_static(self, tensor: Any, dims: Iterable[int], name: str) -> Any:
        layer = self.network.add_shuffle(tensor)
        layer.reshape_dims = tuple(int(d) for d in dims)
        layer.zero_is_placeholder = False
        return self.finish(layer, name)
