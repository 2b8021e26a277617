"""Convolutions (Conv2D, depthwise, transposed) on NCHW-held activations, TensorFlow kernels
(HWIO) rearranged into TensorRT's (OIHW)."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from trtforge_tf_trt.network import Act, NetworkContext


def to_nchw(net: NetworkContext, x: Act, channels_last: bool) -> Act:
    """``x`` held NCHW: NHWC-meaning tensors are rearranged; NCHW ones put in TF order."""
    if channels_last:
        return net.nchw(x)
    return Act(net.logical(x), None)


def _padding(net: NetworkContext, layer: Any, padding: str, explicit: Sequence[int] | None,
             channels_last: bool = True) -> None:
    trt = net.trt
    if padding == "SAME":
        layer.padding_mode = trt.PaddingMode.SAME_UPPER  # TensorFlow puts the odd pixel last
    elif padding == "EXPLICIT":
        pads = list(explicit or [])  # NHWC: [0,0, top,bottom, left,right, 0,0]; NCHW: [0,0,0,0, t,b,l,r]
        h = 2 if channels_last else 4
        layer.pre_padding = (int(pads[h]), int(pads[h + 2]))
        layer.post_padding = (int(pads[h + 1]), int(pads[h + 3]))


def convolution(net: NetworkContext, x: Act, kernel_oihw: np.ndarray, bias: np.ndarray | None,
                strides: Sequence[int], dilations: Sequence[int], padding: str,
                explicit: Sequence[int] | None, groups: int, name: str, channels_last: bool = True) -> Act:
    """A 2-D convolution of ``x`` held NCHW (``channels_last``: ``x`` means NHWC, as
    TensorFlow's default ``data_format``); returns an NCHW-held activation."""
    x = to_nchw(net, x, channels_last)
    dtype = net.dtype_name(x.tensor)
    quantizer = net.quantizer
    tensor = x.tensor
    kernel_tensor = None
    if quantizer is not None:
        tensor = quantizer.activation(net, x.tensor, net.node.inputs[0] if net.node is not None else name)
        kernel_tensor = quantizer.weight(net, kernel_oihw, 0, name)
    empty = net.trt.Weights() if kernel_tensor is not None else net.trt.Weights(net.trt_dtype(dtype))
    kernel_weights = empty if kernel_tensor is not None else net.weights(kernel_oihw, dtype)
    bias_weights = net.weights(bias, dtype) if bias is not None else net.trt.Weights(net.trt_dtype(dtype))
    out_channels, _, kh, kw = kernel_oihw.shape
    layer = net.network.add_convolution_nd(tensor, int(out_channels), (int(kh), int(kw)),
                                           kernel_weights, bias_weights)
    if kernel_tensor is not None:
        layer.set_input(1, kernel_tensor)
    layer.stride_nd = tuple(int(s) for s in strides)
    layer.dilation_nd = tuple(int(d) for d in dilations)
    layer.num_groups = int(groups)
    _padding(net, layer, padding, explicit, channels_last)
    return Act(net.finish(layer, name), x.perm)


def deconvolution(net: NetworkContext, x: Act, kernel_iohw: np.ndarray, strides: Sequence[int],
                  pre: Sequence[int], post: Sequence[int], name: str, channels_last: bool = True) -> Act:
    """A transposed 2-D convolution of ``x`` held NCHW, with explicit paddings."""
    x = to_nchw(net, x, channels_last)
    dtype = net.dtype_name(x.tensor)
    _, out_channels, kh, kw = kernel_iohw.shape
    layer = net.network.add_deconvolution_nd(x.tensor, int(out_channels), (int(kh), int(kw)),
                                             net.weights(kernel_iohw, dtype),
                                             net.trt.Weights(net.trt_dtype(dtype)))
    layer.stride_nd = tuple(int(s) for s in strides)
    layer.pre_padding = tuple(int(p) for p in pre)
    layer.post_padding = tuple(int(p) for p in post)
    return Act(net.finish(layer, name), x.perm)
