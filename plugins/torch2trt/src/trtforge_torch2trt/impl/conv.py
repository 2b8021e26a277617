"""Convolution and transposed convolution (1-D through 3-D, groups, dilation)."""
from __future__ import annotations

from typing import Any, Sequence

from trtforge_torch2trt.network import NetworkContext


def convolution(
    net: NetworkContext, x: Any, weight: Any, bias: Any, stride: Sequence[int],
    padding: Sequence[int], dilation: Sequence[int], transposed: bool,
    output_padding: Sequence[int], groups: int, name: str, input_key: str | None = None,
) -> Any:
    """``aten.convolution``: constant weights become kernel weights (or Q/DQ'd tensors for int8)."""
    spatial = weight.dim() - 2
    if spatial == 1:  # TensorRT has no 1-D convolution: run it as 2-D with a width of 1
        from trtforge_torch2trt.impl.shape import squeeze, unsqueeze

        x2 = unsqueeze(net, x, -1, f"{name}/as2d")
        y = convolution(net, x2, weight.unsqueeze(-1), bias, [stride[0], 1], [padding[0], 0],
                        [dilation[0], 1], transposed, [output_padding[0], 0] if output_padding else [0, 0],
                        groups, f"{name}/conv2d", input_key)
        return squeeze(net, y, [-1], name)
    trt = net.trt
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    kernel = tuple(int(k) for k in weight.shape[2:])
    quantizer = net.quantizing()
    dtype = net.dtype_name(x)
    if quantizer is not None:
        x = quantizer.activation(net, x, input_key)
    # Kernels as tensors (instead of layer weights) for int8 (Q/DQ'd weights) and bf16 (numpy
    # has no bf16; an FP32 constant plus a cast keeps the network snapshot-readable).
    kernel_as_tensor = quantizer is not None or dtype == "bfloat16"
    # The bias stays layer weights beside a Q/DQ'd kernel tensor, as the ONNX parser gives it
    # (an FP32 initializer): TensorRT 8.6 fused onnx_trt's INT8 stem (conv + relu + max pool)
    # into one kernel but not torch2trt's, whose bias was a tensor input -- the one difference
    # found between the two networks (2026-12-02 profile; the effect is not measured yet).
    bias_as_tensor = dtype == "bfloat16"
    # Empty weights stay FP32-typed when tensors carry the kernel (snapshot-readable).
    empty = trt.Weights() if kernel_as_tensor else trt.Weights(net.trt_dtype(dtype))
    kernel_weights = empty if kernel_as_tensor else net.weights(weight, dtype)
    bias_weights = empty if (bias is None or bias_as_tensor) else net.weights(bias, dtype)
    # Inputs first, then the layer: networks are read back (snapshots) in layer order.
    kernel_tensor = bias_tensor = None
    if quantizer is not None:
        kernel_tensor = quantizer.weight(net, weight, 1 if transposed else 0, name)
    elif kernel_as_tensor:
        kernel_tensor = net.constant(weight, f"{name}/kernel", dtype)
    if bias_as_tensor and bias is not None:
        bias_tensor = net.constant(bias, f"{name}/bias", dtype)
    if transposed:
        layer = net.network.add_deconvolution_nd(x, out_channels, kernel, kernel_weights, bias_weights)
    else:
        layer = net.network.add_convolution_nd(x, out_channels, kernel, kernel_weights, bias_weights)
    if kernel_tensor is not None:
        layer.set_input(1, kernel_tensor)
    if bias_tensor is not None:
        layer.set_input(2, bias_tensor)
    layer.stride_nd = tuple(int(s) for s in stride)
    layer.padding_nd = tuple(int(p) for p in padding)
    layer.dilation_nd = tuple(int(d) for d in dilation)
    layer.num_groups = int(groups)
    if transposed and output_padding and any(output_padding):
        layer.post_padding = tuple(int(p) - int(o) for p, o in zip(padding, output_padding))
        layer.pre_padding = tuple(int(p) for p in padding)
    return net.finish(layer, name)
