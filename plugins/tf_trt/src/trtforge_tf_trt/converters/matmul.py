"""MatMul and BatchMatMul/V2/V3 (constant or run-time operands, transposes as flags)."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_tf_trt.impl.elementwise import _expand
from trtforge_tf_trt.network import Act, NetworkContext
from trtforge_tf_trt.registry import converter


def _operand(net: NetworkContext, value: Any, like: Any, name: str, rank: int, transposed: bool = False) -> Any:
    if isinstance(value, Act):
        return net.logical(_expand(net, value, rank, name) if value.rank < rank else value)
    array = np.asarray(value)
    array = array.reshape((1,) * (rank - array.ndim) + array.shape)
    if net.quantizer is not None:
        # per output channel: the last axis, or the one before it when the weight is transposed
        return net.quantizer.weight(net, array, array.ndim - (2 if transposed else 1), name)
    return net.constant_like(array, name, like=like)


def matmul(net: NetworkContext, a: Any, b: Any, transpose_a: bool, transpose_b: bool, name: str) -> Act:
    like = a if isinstance(a, Act) else b
    rank = max(np.ndim(v) if not isinstance(v, Act) else v.rank for v in (a, b))
    ta = _operand(net, a, like, f"{name}/a", rank)
    tb = _operand(net, b, like, f"{name}/b", rank, transpose_b)
    if net.quantizer is not None and isinstance(a, Act):
        ta = net.quantizer.activation(net, ta, net.node.inputs[0] if net.node is not None else name)
    op = net.trt.MatrixOperation
    layer = net.network.add_matrix_multiply(ta, op.TRANSPOSE if transpose_a else op.NONE,
                                            tb, op.TRANSPOSE if transpose_b else op.NONE)
    return Act(net.finish(layer, name))


@converter("MatMul")
def mat_mul(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return matmul(net, inputs[0], inputs[1], bool(node.attr("transpose_a", False)),
                  bool(node.attr("transpose_b", False)), node.name)


@converter("BatchMatMul", "BatchMatMulV2", "BatchMatMulV3")
def batch_mat_mul(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return matmul(net, inputs[0], inputs[1], bool(node.attr("adj_x", False)),
                  bool(node.attr("adj_y", False)), node.name)
