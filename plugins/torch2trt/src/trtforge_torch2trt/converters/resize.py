"""Upsampling: nearest and bilinear, by output size or scale factors."""
from __future__ import annotations

from typing import Any

from trtforge_torch2trt.converters import arg, aten
from trtforge_torch2trt.impl.resize import resize
from trtforge_torch2trt.network import NetworkContext
from trtforge_torch2trt.registry import converter

A = aten()


@converter(A.upsample_nearest2d.vec, A.upsample_nearest2d.default)
def convert_upsample_nearest(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    size = arg(args, kwargs, 1, "output_size")
    if node.target == A.upsample_nearest2d.vec:
        scales = arg(args, kwargs, 2, "scale_factors")
    else:
        scales = [s for s in (arg(args, kwargs, 2, "scales_h"), arg(args, kwargs, 3, "scales_w")) if s]
    return resize(net, args[0], "NEAREST", node.name, size=list(size) if size else None,
                  scales=list(scales) if scales and not size else None)


@converter(A.upsample_bilinear2d.vec, A.upsample_bilinear2d.default)
def convert_upsample_bilinear(net: NetworkContext, node: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    size = arg(args, kwargs, 1, "output_size")
    align = bool(arg(args, kwargs, 2, "align_corners", False))
    if node.target == A.upsample_bilinear2d.vec:
        scales = arg(args, kwargs, 3, "scale_factors")
    else:
        scales = [s for s in (arg(args, kwargs, 3, "scales_h"), arg(args, kwargs, 4, "scales_w")) if s]
    return resize(net, args[0], "LINEAR", node.name, size=list(size) if size else None,
                  scales=list(scales) if scales and not size else None, align_corners=align)
