"""Conv2D, DepthwiseConv2dNative, Conv2DBackpropInput (TensorFlow's transposed convolution)."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_tf_trt.impl.conv import convolution, deconvolution
from trtforge_tf_trt.network import NetworkContext
from trtforge_tf_trt.registry import converter
from trtforge_tf_trt.validators import all_of, const_inputs, data_format_2d, rank_is


def _spatial(node: Any, key: str) -> tuple[int, int]:
    values = node.attr(key, [1, 1, 1, 1]) or [1, 1, 1, 1]
    if node.attr("data_format", "NHWC") == "NCHW":
        return int(values[2]), int(values[3])
    return int(values[1]), int(values[2])


def _padding_known(node: Any) -> bool | str:
    padding = node.attr("padding", "VALID")
    return True if padding in ("SAME", "VALID", "EXPLICIT") else f"padding {padding!r} is unknown"


_CONV = all_of(const_inputs(1), rank_is(4), data_format_2d, _padding_known)


@converter("Conv2D", validator=_CONV)
def conv2d(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x, kernel = inputs
    channels_last = node.attr("data_format", "NHWC") == "NHWC"
    in_channels = node.input_shape(0)[3 if channels_last else 1]
    groups = 1 if in_channels is None else int(in_channels) // int(kernel.shape[2])
    return convolution(net, x, np.transpose(kernel, (3, 2, 0, 1)), None, _spatial(node, "strides"),
                       _spatial(node, "dilations"), node.attr("padding"), node.attr("explicit_paddings"),
                       groups, node.name, channels_last)


@converter("DepthwiseConv2dNative", validator=_CONV)
def depthwise_conv2d(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x, kernel = inputs
    kh, kw, channels, multiplier = kernel.shape
    # TensorFlow's output channel c*multiplier + m is TensorRT's group c, filter m.
    oihw = np.transpose(kernel, (2, 3, 0, 1)).reshape(channels * multiplier, 1, kh, kw)
    return convolution(net, x, oihw, None, _spatial(node, "strides"), _spatial(node, "dilations"),
                       node.attr("padding"), node.attr("explicit_paddings"), int(channels), node.name,
                       node.attr("data_format", "NHWC") == "NHWC")


def _backprop_ok(node: Any) -> bool | str:
    if node.attr("padding") not in ("SAME", "VALID"):
        return f"padding {node.attr('padding')!r} of a transposed convolution is not supported"
    if _spatial(node, "dilations") != (1, 1):
        return "dilated transposed convolutions are not supported"
    return True


@converter("Conv2DBackpropInput",
           validator=all_of(const_inputs(0, 1), rank_is(4, index=2), data_format_2d, _backprop_ok))
def conv2d_transpose(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    sizes, kernel, x = inputs
    channels_last = node.attr("data_format", "NHWC") == "NHWC"
    out_hw = (sizes[1], sizes[2]) if channels_last else (sizes[2], sizes[3])
    in_shape = node.input_shape(2)
    in_hw = (in_shape[1], in_shape[2]) if channels_last else (in_shape[2], in_shape[3])
    kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
    strides = _spatial(node, "strides")
    pre, post = [], []
    for size_in, size_out, k, s in zip(in_hw, out_hw, (kh, kw), strides):
        total = (int(size_in) - 1) * s + k - int(size_out)  # what the deconvolution must crop
        if node.attr("padding") == "SAME":
            forward = max((int(size_in) - 1) * s + k - int(size_out), 0)
            before = forward // 2
        else:
            before = 0
        pre.append(before)
        post.append(total - before)
    if any(p < 0 for p in post):
        raise net.error(f"output size {out_hw} needs negative padding {post}")
    # TensorFlow's filter is [h, w, out, in]; TensorRT's deconvolution kernel [in, out, h, w].
    return deconvolution(net, x, np.transpose(kernel, (3, 2, 0, 1)), strides, pre, post,
                         node.name, channels_last)
