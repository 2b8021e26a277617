"""Softmax and LogSoftmax over the last TensorFlow axis (in FP32 under reduced precision)."""
from __future__ import annotations

from typing import Any

from trtforge_tf_trt.impl.elementwise import precise_in, precise_out
from trtforge_tf_trt.network import Act, NetworkContext
from trtforge_tf_trt.registry import converter


@converter("Softmax", "LogSoftmax")
def softmax(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x = inputs[0]
    inner, original = precise_in(net, x.tensor, node.name)
    layer = net.network.add_softmax(inner)
    layer.axes = 1 << x.physical_axis(x.rank - 1)
    out = net.finish(layer, f"{node.name}/softmax" if node.op == "LogSoftmax" else
                     (f"{node.name}/float32" if original else node.name))
    if node.op == "LogSoftmax":
        log = net.network.add_unary(out, net.trt.UnaryOperation.LOG)
        out = net.finish(log, f"{node.name}/float32" if original else node.name)
    return Act(precise_out(net, out, original, node.name), x.perm)
