"""Matrix products: addmm (nn.Linear), mm, bmm, matmul."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.converters import arg, aten, input_key
from trtforge_torch2trt.impl.matmul import addmm, matmul
from trtforge_torch2trt.network import NetworkContext
from trtforge_torch2trt.registry import converter

A = aten()


@converter(A.addmm.default)
def convert_addmm(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return addmm(net, args[0], args[1], args[2], float(arg(args, kwargs, 3, "beta", 1)),
                 float(arg(args, kwargs, 4, "alpha", 1)), node.name,
                 (input_key(node, 1), input_key(node, 2)))


@converter(A.mm.default, A.bmm.default, A.matmul.default)
def convert_matmul(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return matmul(net, args[0], args[1], node.name, (input_key(node, 0), input_key(node, 1)))
