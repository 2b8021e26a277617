"""Constant padding."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.converters import arg, aten
from trtforge_torch2trt.impl.pad import constant_pad
from trtforge_torch2trt.network import NetworkContext
from trtforge_torch2trt.registry import converter

A = aten()


def non_negative(node: Any) -> bool | str:
    if any(int(p) < 0 for p in node.args[1]):
        return "negative padding (cropping)"
    return True


@converter(A.constant_pad_nd.default, validator=non_negative)
def convert_constant_pad(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return constant_pad(net, args[0], list(args[1]), float(arg(args, kwargs, 2, "value", 0.0)), node.name)
