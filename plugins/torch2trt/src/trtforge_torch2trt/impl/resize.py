"""Nearest and (bi)linear resizing to sizes or scale factors."""
from __future__ import annotations

from typing import Any, Sequence

from trtforge_torch2trt.network import NetworkContext


def resize(net: NetworkContext, x: Any, mode: str, name: str, size: Sequence[int] | None = None,
           scales: Sequence[float] | None = None, align_corners: bool = False) -> Any:
    """``mode`` NEAREST or LINEAR; spatial dims are the trailing ``len(size or scales)``."""
    trt = net.trt
    layer = net.network.add_resize(x)
    rank = net.rank(x)
    if size is not None:
        shape = net.shape(x)
        lead = list(shape[: rank - len(size)])
        if any(d < 0 for d in lead):
            layer.scales = [1.0] * (rank - len(size)) + [
                float(o) / float(i) for o, i in zip(size, shape[rank - len(size):])]
        else:
            layer.shape = tuple(lead + [int(s) for s in size])
    else:
        layer.scales = [1.0] * (rank - len(scales)) + [float(s) for s in scales]  # type: ignore[arg-type]
    layer.resize_mode = getattr(trt.InterpolationMode, mode)
    if mode == "NEAREST":
        layer.coordinate_transformation = trt.ResizeCoordinateTransformation.ASYMMETRIC
        layer.nearest_rounding = trt.ResizeRoundMode.FLOOR
    elif align_corners:
        layer.coordinate_transformation = trt.ResizeCoordinateTransformation.ALIGN_CORNERS
    else:
        layer.coordinate_transformation = trt.ResizeCoordinateTransformation.HALF_PIXEL
        layer.selector_for_single_pixel = trt.ResizeSelector.FORMULA
    return net.finish(layer, name)
