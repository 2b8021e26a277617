"""FusedBatchNorm (inference) as one per-channel scale layer, and BiasAdd."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_tf_trt.impl.elementwise import binary
from trtforge_tf_trt.network import Act, NetworkContext
from trtforge_tf_trt.registry import converter
from trtforge_tf_trt.validators import all_of, const_inputs, data_format_2d


def _inference_only(node: Any) -> bool | str:
    if node.attr("is_training", False):
        return "batch norm in training mode (is_training=True) has no inference form"
    return True


def _only_y_used(node: Any) -> bool | str:
    used = node.graph.consumed_outputs(node.name)
    extra = sorted(i for i in used if i != 0)
    return True if not extra else f"outputs {extra} (batch statistics) are used; only y converts"


@converter("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3",
           validator=all_of(const_inputs(1, 2, 3, 4), data_format_2d, _inference_only, _only_y_used))
def fused_batch_norm(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x, gamma, beta, mean, variance = inputs[:5]
    epsilon = float(node.attr("epsilon", 1e-3))
    scale = gamma.astype(np.float64) / np.sqrt(variance.astype(np.float64) + epsilon)
    shift = beta.astype(np.float64) - mean.astype(np.float64) * scale
    y = batch_norm_scale(net, x, scale, shift, node.name, node.attr("data_format", "NHWC") == "NHWC")
    return (y,) + (None,) * 5


def batch_norm_scale(net: NetworkContext, x: Act, scale: np.ndarray, shift: np.ndarray, name: str,
                     channels_last: bool = True) -> Act:
    """``x * scale + shift`` per channel as an ``IScaleLayer`` (TensorRT fuses it into the
    convolution before it)."""
    from trtforge_tf_trt.impl.conv import to_nchw

    held = to_nchw(net, x, channels_last) if x.rank == 4 else Act(net.logical(x))
    dtype = net.dtype_name(held.tensor)
    channel_axis = 1 if held.rank == 4 else held.rank - 1
    layer = net.network.add_scale_nd(held.tensor, net.trt.ScaleMode.CHANNEL, net.weights(shift, dtype),
                                     net.weights(scale, dtype), net.trt.Weights(net.trt_dtype(dtype)), channel_axis)
    return Act(net.finish(layer, name), held.perm)


@converter("BiasAdd", "BiasAddV1", validator=all_of(const_inputs(1), data_format_2d))
def bias_add(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x, bias = inputs
    if node.attr("data_format", "NHWC") == "NCHW" and x.rank >= 3:
        bias = np.asarray(bias).reshape((-1,) + (1,) * (x.rank - 2))
    return binary(net, "SUM", x, bias, node.name)
