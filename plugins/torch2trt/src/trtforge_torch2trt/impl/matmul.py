"""Matrix products: mm/bmm/matmul and addmm (linear layers), with INT8 Q/DQ on the inputs."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.network import NetworkContext


def _operand(net: NetworkContext, value: Any, key: str | None, name: str, like: Any,
             weight_axis: int) -> Any:
    quantizer = net.quantizing()
    if net.is_itensor(value):
        if quantizer is not None:
            return quantizer.activation(net, value, key)
        return value
    if quantizer is not None and value.dim() == 2:
        return quantizer.weight(net, value, weight_axis, name)
    return net.constant(value, name, net.dtype_name(like))


def matmul(net: NetworkContext, a: Any, b: Any, name: str, keys: tuple[Any, Any] = (None, None)) -> Any:
    from trtforge_torch2trt.impl.elementwise import expand_rank

    like = a if net.is_itensor(a) else b
    # A constant right operand [K, N] is quantized per output column N (axis 1).
    a_t = _operand(net, a, keys[0], f"{name}/a", like, 0)
    b_t = _operand(net, b, keys[1], f"{name}/b", like, 1)
    rank = max(net.rank(a_t), net.rank(b_t))
    a_t = expand_rank(net, a_t, rank, f"{name}/a_rank")
    b_t = expand_rank(net, b_t, rank, f"{name}/b_rank")
    none = net.trt.MatrixOperation.NONE
    layer = net.network.add_matrix_multiply(a_t, none, b_t, none)
    return net.finish(layer, name)


def addmm(net: NetworkContext, bias: Any, a: Any, b: Any, beta: float, alpha: float, name: str,
          keys: tuple[Any, Any] = (None, None)) -> Any:
    """``beta * bias + alpha * (a @ b)`` (``nn.Linear`` after decomposition)."""
    from trtforge_torch2trt.impl.elementwise import binary

    product = matmul(net, a, b, f"{name}/mm", keys)
    if alpha != 1:
        product = binary(net, "PROD", product, float(alpha), f"{name}/alpha")
    if bias is None or beta == 0:
        from trtforge_torch2trt.impl.cast import identity

        return identity(net, product, name)
    if beta != 1:
        bias = bias * beta if not net.is_itensor(bias) else binary(net, "PROD", bias, float(beta), f"{name}/beta")
    return binary(net, "SUM", product, bias, name)
