"""Batch norm (inference), layer norm, group norm."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.converters import aten, is_constant
from trtforge_torch2trt.impl.normalization import batch_norm, group_norm, layer_norm
from trtforge_torch2trt.network import NetworkContext
from trtforge_torch2trt.registry import converter

A = aten()


def constant_parameters(node: Any) -> bool | str:
    if not all(is_constant(a) for a in node.args[1:]):
        return "normalization parameters computed at run time"
    if node.users and any(u.args[1] != 0 for u in node.users if len(u.args) > 1):
        return "the saved mean/variance outputs are used"
    return True


@converter(A._native_batch_norm_legit_no_training.default, validator=constant_parameters)
def convert_batch_norm(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    x, weight, bias, mean, var, _momentum, eps = args[:7]
    if net.folds is not None and node.name in net.folds.folded:
        return (x, None, None)  # folded into the convolution before it (see fold.py)
    return (batch_norm(net, x, weight, bias, mean, var, float(eps), node.name), None, None)


@converter(A.native_layer_norm.default, validator=constant_parameters)
def convert_layer_norm(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    x, shape, weight, bias, eps = args[:5]
    return (layer_norm(net, x, list(shape), weight, bias, float(eps), node.name), None, None)


@converter(A.native_group_norm.default, validator=constant_parameters)
def convert_group_norm(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    x, weight, bias, _n, _c, _hw, groups, eps = args[:8]
    return (group_norm(net, x, weight, bias, int(groups), float(eps), node.name), None, None)
