"""Cast: floats become the policy's compute dtype, integers the index type TensorRT has."""
from __future__ import annotations

from typing import Any

from trtforge_tf_trt.network import Act, NetworkContext
from trtforge_tf_trt.registry import converter

_SUPPORTED = {"float32", "float16", "bfloat16", "float64", "int32", "int64", "int8", "uint8", "bool"}


def _dtype_ok(node: Any) -> bool | str:
    dst = node.attr("DstT")
    return True if dst in _SUPPORTED else f"cast to {dst} has no TensorRT equivalent"


@converter("Cast", validator=_dtype_ok)
def cast(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x = inputs[0]
    target = net.compute_dtype(node.attr("DstT"))
    if net.dtype_name(x.tensor) == target:
        return x
    layer = net.network.add_cast(x.tensor, net.trt_dtype(target))
    return Act(net.finish(layer, node.name), x.perm)
