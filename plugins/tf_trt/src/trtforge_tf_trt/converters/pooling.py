"""MaxPool and AvgPool (2-D, NHWC or NCHW)."""
from __future__ import annotations

from typing import Any

from trtforge_tf_trt.impl.pooling import pool
from trtforge_tf_trt.network import NetworkContext
from trtforge_tf_trt.registry import converter
from trtforge_tf_trt.validators import all_of, data_format_2d, rank_is


def _window_ok(node: Any) -> bool | str:
    channels_last = node.attr("data_format", "NHWC") == "NHWC"
    ksize, strides = node.attr("ksize") or [], node.attr("strides") or []
    batch_channel = (0, 3) if channels_last else (0, 1)
    if len(ksize) != 4 or len(strides) != 4:
        return "ksize and strides must have 4 entries"
    if any(ksize[i] != 1 or strides[i] != 1 for i in batch_channel):
        return "pooling across the batch or channel axis is not supported"
    if node.attr("padding") not in ("SAME", "VALID"):
        return f"padding {node.attr('padding')!r} is not supported"
    return True


@converter("MaxPool", "AvgPool", validator=all_of(rank_is(4), data_format_2d, _window_ok))
def pool2d(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    channels_last = node.attr("data_format", "NHWC") == "NHWC"
    axes = (1, 2) if channels_last else (2, 3)
    ksize, strides = node.attr("ksize"), node.attr("strides")
    return pool(net, inputs[0], "MAX" if node.op == "MaxPool" else "AVERAGE",
                [ksize[a] for a in axes], [strides[a] for a in axes], node.attr("padding"),
                node.name, channels_last)
