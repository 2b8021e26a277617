"""ResizeBilinear and ResizeNearestNeighbor (align_corners / half_pixel_centers as TF has them)."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_tf_trt.network import Act, NetworkContext
from trtforge_tf_trt.registry import converter
from trtforge_tf_trt.validators import all_of, const_inputs, rank_is, static_input


@converter("ResizeBilinear", "ResizeNearestNeighbor",
           validator=all_of(const_inputs(1), rank_is(4), static_input(0)))
def resize(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x, size = inputs
    trt = net.trt
    x = net.nchw(x)  # NHWC resize of the H and W axes: NCHW-held like a convolution's input
    n, c = net.shape(x.tensor)[:2]
    height, width = (int(s) for s in np.ravel(size))
    layer = net.network.add_resize(x.tensor)
    layer.shape = (n, c, height, width)
    align, half = bool(node.attr("align_corners", False)), bool(node.attr("half_pixel_centers", False))
    transform = trt.ResizeCoordinateTransformation
    layer.coordinate_transformation = (transform.ALIGN_CORNERS if align else
                                       transform.HALF_PIXEL if half else transform.ASYMMETRIC)
    if node.op == "ResizeBilinear":
        layer.resize_mode = trt.InterpolationMode.LINEAR
    else:
        layer.resize_mode = trt.InterpolationMode.NEAREST
        rounding = trt.ResizeRoundMode
        layer.nearest_rounding = rounding.HALF_UP if (align or half) else rounding.FLOOR
    return Act(net.finish(layer, node.name), x.perm)
