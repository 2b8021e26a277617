"""Softmax and log-softmax."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.converters import aten
from trtforge_torch2trt.impl.softmax import softmax
from trtforge_torch2trt.network import NetworkContext
from trtforge_torch2trt.registry import converter

A = aten()


@converter(A._softmax.default, A.softmax.int)
def convert_softmax(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return softmax(net, args[0], int(args[1]), node.name)


@converter(A._log_softmax.default, A.log_softmax.int)
def convert_log_softmax(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return softmax(net, args[0], int(args[1]), node.name, log=True)
