"""GatherV2 / Gather (batch_dims 0, constant axis)."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_tf_trt.impl.shape import gather
from trtforge_tf_trt.network import NetworkContext
from trtforge_tf_trt.registry import converter


def _gather_ok(node: Any) -> bool | str:
    if int(node.attr("batch_dims", 0)) != 0:
        return "batch_dims other than 0 is not supported"
    if node.op == "GatherV2" and node.input_const(2) is None:
        return "the axis must be a constant"
    return True


@converter("GatherV2", "Gather", validator=_gather_ok)
def gather_v2(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    axis = int(np.ravel(inputs[2])[0]) if node.op == "GatherV2" else 0
    return gather(net, inputs[0], inputs[1], axis, node.name)
