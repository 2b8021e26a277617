"""Casts, and the FP32 islands of the reduced-precision policy."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.network import NetworkContext


def cast(net: NetworkContext, x: Any, dtype: str, name: str) -> Any:
    """Cast to ``dtype`` (a trtforge dtype name); a named identity if already there."""
    x = net.tensor(x, f"{name}/x")
    if net.dtype_name(x) == dtype:
        return identity(net, x, name)
    return net.finish(net.network.add_cast(x, net.trt_dtype(dtype)), name)


def identity(net: NetworkContext, x: Any, name: str) -> Any:
    return net.finish(net.network.add_identity(x), name)


def precise_in(net: NetworkContext, x: Any, name: str) -> tuple[Any, str | None]:
    """Cast a reduced-precision float to FP32 for an overflow-prone op; returns the original dtype."""
    dtype = net.dtype_name(x)
    if dtype in ("float16", "bfloat16"):
        return net.cast(x, "float32", f"{name}/to_float32"), dtype
    return x, None


def precise_out(net: NetworkContext, y: Any, original: str | None, name: str) -> Any:
    """Cast an FP32 island's result back to the network's reduced type, named after the node."""
    if original is None:
        return y
    return net.finish(net.network.add_cast(y, net.trt_dtype(original)), name)
