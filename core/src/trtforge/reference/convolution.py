"""Convolution and deconvolution (N-d, groups, dilation, pre/post padding, padding modes)."""
from __future__ import annotations

from typing import Any

from trtforge.reference.base import LayerView, register
from trtforge.reference.padding import forward_padding, torch_pad_list


def _kernel_and_bias(layer: LayerView, inputs: list[Any], in_channels: int, deconv: bool) -> tuple[Any, Any]:
    kernel_size = [int(k) for k in layer.attr("kernel_size_nd")]
    groups = int(layer.attr("num_groups", 1))
    maps = int(layer.attr("num_output_maps"))
    kernel = inputs[1] if len(inputs) > 1 and inputs[1] is not None else layer.weights("kernel")
    if kernel is None:
        raise layer.fail("has neither kernel weights nor a kernel input")
    if deconv:
        shape = [in_channels, maps // groups] + kernel_size
    else:
        shape = [maps, in_channels // groups] + kernel_size
    kernel = kernel.float().reshape(shape)
    bias = inputs[2] if len(inputs) > 2 and inputs[2] is not None else layer.weights("bias")
    if bias is not None:
        bias = bias.float().reshape(-1)
    return kernel, bias


@register("CONVOLUTION")
def convolution(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch.nn.functional as F

    x = inputs[0].float()
    spatial = x.dim() - 2
    kernel, bias = _kernel_and_bias(layer, inputs, x.shape[1], deconv=False)
    ksize = list(kernel.shape[2:])
    stride = layer.attr("stride_nd", [1] * spatial)
    dilation = layer.attr("dilation_nd", [1] * spatial)
    pre, post, extra = forward_padding(
        layer.attr("padding_mode", "EXPLICIT_ROUND_DOWN"), list(x.shape[2:]), ksize, stride,
        dilation, layer.attr("pre_padding", [0] * spatial), layer.attr("post_padding", [0] * spatial))
    x = F.pad(x, torch_pad_list(pre, [p + e for p, e in zip(post, extra)]))
    conv = (F.conv1d, F.conv2d, F.conv3d)[spatial - 1]
    out = conv(x, kernel, bias, stride=tuple(stride), dilation=tuple(dilation),
               groups=int(layer.attr("num_groups", 1)))
    return [out]


@register("DECONVOLUTION")
def deconvolution(layer: LayerView, inputs: list[Any]) -> list[Any]:
    import torch.nn.functional as F

    x = inputs[0].float()
    spatial = x.dim() - 2
    kernel, bias = _kernel_and_bias(layer, inputs, x.shape[1], deconv=True)
    ksize = list(kernel.shape[2:])
    stride = [int(s) for s in layer.attr("stride_nd", [1] * spatial)]
    dilation = [int(d) for d in layer.attr("dilation_nd", [1] * spatial)]
    mode = layer.attr("padding_mode", "EXPLICIT_ROUND_DOWN")
    full = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[spatial - 1](
        x, kernel, bias, stride=tuple(stride), dilation=tuple(dilation),
        groups=int(layer.attr("num_groups", 1)))
    if mode in ("SAME_UPPER", "SAME_LOWER"):
        pre, post = [], []
        for i, size in enumerate(x.shape[2:]):
            total = full.shape[2 + i] - size * stride[i]
            small, big = total // 2, total - total // 2
            pre.append(small if mode == "SAME_UPPER" else big)
            post.append(big if mode == "SAME_UPPER" else small)
    else:
        pre = layer.attr("pre_padding", [0] * spatial)
        post = layer.attr("post_padding", [0] * spatial)
    # Deconvolution padding removes output: a negative F.pad crops.
    return [F.pad(full, [-p for p in torch_pad_list(pre, post)])]
