"""Max/avg pooling and adaptive average pooling."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.converters import arg, aten, fake, node_arg
from trtforge_torch2trt.impl.pooling import adaptive_avg_pool, pool
from trtforge_torch2trt.network import NetworkContext
from trtforge_torch2trt.registry import converter

A = aten()


def no_dilation(node: Any) -> bool | str:
    dilation = node_arg(node, 4, "dilation", [1])
    if any(int(d) != 1 for d in dilation):
        return "dilated max pooling"
    return True


def indices_unused(node: Any) -> bool | str:
    for user in node.users:
        if user.target.__name__ != "getitem" or user.args[1] != 0:
            return "the pooling indices are used"
    return no_dilation(node)


@converter(A.max_pool2d_with_indices.default, A.max_pool3d_with_indices.default,
           validator=indices_unused)
def convert_max_pool_with_indices(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    out = pool(net, args[0], "MAX", arg(args, kwargs, 1, "kernel_size"),
               arg(args, kwargs, 2, "stride", []), arg(args, kwargs, 3, "padding", [0]),
               bool(arg(args, kwargs, 5, "ceil_mode", False)), node.name)
    return (out, None)


@converter(A.max_pool2d.default, A.max_pool3d.default, validator=no_dilation)
def convert_max_pool(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return pool(net, args[0], "MAX", arg(args, kwargs, 1, "kernel_size"),
                arg(args, kwargs, 2, "stride", []), arg(args, kwargs, 3, "padding", [0]),
                bool(arg(args, kwargs, 5, "ceil_mode", False)), node.name)


def no_divisor_override(node: Any) -> bool | str:
    if node_arg(node, 6, "divisor_override") is not None:
        return "avg_pool with divisor_override"
    return True


@converter(A.avg_pool2d.default, A.avg_pool3d.default, validator=no_divisor_override)
def convert_avg_pool(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return pool(net, args[0], "AVERAGE", arg(args, kwargs, 1, "kernel_size"),
                arg(args, kwargs, 2, "stride", []), arg(args, kwargs, 3, "padding", [0]),
                bool(arg(args, kwargs, 4, "ceil_mode", False)), node.name,
                count_include_pad=bool(arg(args, kwargs, 5, "count_include_pad", True)))


def static_or_global(node: Any) -> bool | str:
    out = [int(o) for o in node_arg(node, 1, "output_size")]
    val = fake(node.args[0])
    if all(o == 1 for o in out):
        return True
    spatial = list(val.shape[-len(out):])
    if any(not isinstance(s, int) for s in spatial):
        return f"adaptive pooling over dynamic sizes {spatial}"
    return True


@converter(A._adaptive_avg_pool2d.default, A._adaptive_avg_pool3d.default,
           A.adaptive_avg_pool2d.default, validator=static_or_global)
def convert_adaptive_avg_pool(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    return adaptive_avg_pool(net, args[0], arg(args, kwargs, 1, "output_size"), node.name)
