"""dtype conversions (``x.to(dtype)``, ``x.float()``)."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.converters import aten
from trtforge_torch2trt.impl.cast import cast, identity
from trtforge_torch2trt.network import TORCH_TO_TRT, NetworkContext
from trtforge_torch2trt.registry import converter

A = aten()


@converter(A._to_copy.default, A.to.dtype)
def convert_to_copy(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    dtype = kwargs.get("dtype") if node.target == A._to_copy.default else args[1]
    if dtype is None:
        return identity(net, args[0], node.name)
    # An explicit cast in the model is honoured even under fp16/bf16 (it usually guards
    # precision); later ops promote mixed operands to the wider type, as PyTorch does.
    return cast(net, args[0], TORCH_TO_TRT[str(dtype)], node.name)


@converter(A._assert_tensor_metadata.default)
def convert_assert_metadata(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    """torch.export's dtype/shape assertion on a cast input: checked at capture, no layer."""
    return None
