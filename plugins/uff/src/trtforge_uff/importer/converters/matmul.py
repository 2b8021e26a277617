"""FullyConnected: ``x @ weights`` (TF MatMul layout: weights stored [in, out], "CK")."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_uff.importer.network import ImportContext
from trtforge_uff.importer.registry import converter


@converter("FullyConnected")
def fully_connected(ctx: ImportContext, node: Any, inputs: list[Any]) -> Any:
    x, weights = inputs
    orders = node.get("inputs_orders")
    if isinstance(orders, list) and len(orders) > 1 and not ctx.is_tensor(weights):
        storage = orders[1].for_rank(2)  # canonical K=0 (out), C=1 (in)
        weights = np.transpose(np.asarray(weights), [storage.index(1), storage.index(0)])  # -> [in, out]
    x = ctx.tensor(x, ctx.sub("input"))
    w = ctx.tensor(weights, ctx.sub("weights"), like=x)
    none = ctx.trt.MatrixOperation.NONE
    return ctx.finish(ctx.network.add_matrix_multiply(x, none, w, none))
