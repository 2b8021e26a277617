"""Pad, PadV2 (constant value) and MirrorPad (REFLECT) as one slice layer, in any layout.

Dynamic dims (a dynamic batch) keep the slice's static start (the padding is a constant) and
take its size at run time: the input's shape plus the padding."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_tf_trt.impl.shape import slice_static
from trtforge_tf_trt.network import Act, NetworkContext
from trtforge_tf_trt.registry import converter
from trtforge_tf_trt.validators import all_of, const_inputs


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
    if all(d >= 0 for d in shape):
        return Act(slice_static(net, x.tensor, start, size, [1] * len(shape), node.name, mode=mode,
                                fill=fill), x.perm)
    index = net.native("int64")
    grow = net.constant(np.asarray([int(pads[a].sum()) for a in layout], dtype=index),
                        f"{node.name}/padding", index)
    run_size = net.network.add_elementwise(net.shape_tensor(x.tensor, f"{node.name}/shape"), grow,
                                           net.trt.ElementWiseOperation.SUM)
    sized = net.finish(run_size, f"{node.name}/size")
    layer = net.network.add_slice(x.tensor, tuple(start), tuple(max(d, 0) for d in size),
                                  (1,) * len(shape))
    layer.set_input(2, sized)
    layer.mode = getattr(net.trt.SampleMode, mode)
    if fill is not None:
        layer.set_input(4, fill)
    return Act(net.finish(layer, node.name), x.perm)


@converter("Pad", validator=const_inputs(1))
def pad(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return _pad(net, node, inputs[0], inputs[1], "FILL")


@converter("PadV2", validator=const_inputs(1, 2))
def pad_v2(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return _pad(net, node, inputs[0], inputs[1], "FILL", inputs[2])


@converter("MirrorPad", validator=all_of(const_inputs(1), _mirror_ok))
def mirror_pad(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    return _pad(net, node, inputs[0], inputs[1], "REFLECT")
