"""Pad, PadV2 (constant value) and MirrorPad (REFLECT) as one slice layer, in any layout."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_tf_trt.impl.shape import slice_static
from trtforge_tf_trt.network import Act, NetworkContext
from trtforge_tf_trt.registry import converter
from trtforge_tf_trt.validators import all_of, const_inputs, static_input


def _mirror_ok(node: Any) -> bool | str:
    mode = node.attr("mode", "REFLECT")
    return True if mode == "REFLECT" else f"MirrorPad mode {mode!r} has no TensorRT slice mode"


def _pad(net: NetworkContext, node: Any, x: Act, paddings: Any, mode: str, value: Any = None) -> Act:
    pads = np.asarray(paddings).astype(int).reshape(-1, 2)
    layout = x.layout
    shape = net.shape(x.tensor)
    start = [-int(pads[a, 0]) for a in layout]
    size = [shape[k] + int(pads[a].sum()) for k, a in enumerate(layout)]
    fill = None
    if mode == "FILL" and value is not None and float(np.ravel(value)[0]) != 0.0:
        fill = net.constant_like(np.asarray(np.ravel(value)[0]).reshape(()), f"{node.name}/value", like=x)
    return Act(slice_static(net, x.tensor, start, size, [1] * len(shape), node.name, mode=mode, fill=fill),
               x.perm)


@converter("Pad", validator=all_of(const_inputs(1), static_input(0)))
def pad(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return _pad(net, node, inputs[0], inputs[1], "FILL")


@converter("PadV2", validator=all_of(const_inputs(1, 2), static_input(0)))
def pad_v2(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return _pad(net, node, inputs[0], inputs[1], "FILL", inputs[2])


@converter("MirrorPad", validator=all_of(const_inputs(1), static_input(0), _mirror_ok))
def mirror_pad(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return _pad(net, node, inputs[0], inputs[1], "REFLECT")
