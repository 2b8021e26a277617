"""aten.convolution (conv1d/2d/3d, transposed, grouped, dilated)."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.converters import arg, aten, fake, input_key, is_constant, node_arg
from trtforge_torch2trt.impl.conv import convolution
from trtforge_torch2trt.network import NetworkContext
from trtforge_torch2trt.registry import converter

A = aten()


def constant_weight(node: Any) -> bool | str:
    weight = node_arg(node, 1, "weight")
    val = fake(weight)
    if val is None or val.dim() not in (3, 4, 5):
        return "only 1-D, 2-D and 3-D convolutions"
    if not is_constant(weight):
        return "the weight is computed at run time (only constant weights are supported)"
    bias = node_arg(node, 2, "bias")
    if bias is not None and not is_constant(bias):
        return "the bias is computed at run time"
    return True


@converter(A.convolution.default, validator=constant_weight)
def convert_convolution(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    weight, bias = arg(args, kwargs, 1, "weight"), arg(args, kwargs, 2, "bias")
    if net.folds is not None:  # the batch norm after it folded in (see fold.py)
        weight, bias = net.folds.weights(node.name, weight, bias)
    return convolution(
        net, args[0], weight, bias,
        arg(args, kwargs, 3, "stride"), arg(args, kwargs, 4, "padding"),
        arg(args, kwargs, 5, "dilation"), bool(arg(args, kwargs, 6, "transposed")),
        arg(args, kwargs, 7, "output_padding"), int(arg(args, kwargs, 8, "groups")),
        node.name, input_key(node, 0),
    )
