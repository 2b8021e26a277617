"""Mean/Sum/Max/Min/Prod over constant axes, and ArgMax/ArgMin (TopK with k = 1)."""
from __future__ import annotations

from typing import Any

import numpy as np

from trtforge_tf_trt.impl.reduce import reduce
from trtforge_tf_trt.network import Act, NetworkContext
from trtforge_tf_trt.registry import converter
from trtforge_tf_trt.validators import const_inputs

_REDUCE = {"Mean": "AVG", "Sum": "SUM", "Max": "MAX", "Min": "MIN", "Prod": "PROD"}
_PRECISE = {"Mean", "Sum", "Prod"}


@converter(*_REDUCE, validator=const_inputs(1))
def reduction(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x, axes = inputs
    axes = np.atleast_1d(axes).astype(int).tolist()
    if not axes:
        return x
    return reduce(net, x, _REDUCE[node.op], axes, bool(node.attr("keep_dims", False)), node.name,
                  precise=node.op in _PRECISE and net.policy.reduced)


@converter("ArgMax", "ArgMin", validator=const_inputs(1))
def arg_max(net: NetworkContext, node: Any, inputs: list[Any]) -> Any:
    x, axis = inputs
    logical = int(np.ravel(axis)[0]) % x.rank
    physical = x.physical_axis(logical)
    op = net.trt.TopKOperation.MAX if node.op == "ArgMax" else net.trt.TopKOperation.MIN
    layer = net.network.add_topk(x.tensor, op, 1, 1 << physical)
    indices = net.finish(layer, f"{node.name}/topk", output=1)
    shape = list(net.shape(indices))
    del shape[physical]
    squeezed = net.reshape(indices, shape, f"{node.name}/squeeze")
    out = net.cast(squeezed, net.native(node.attr("output_type", "int64")), node.name)
    kept = [a for a in x.layout if a != logical]
    rerank = {a: k for k, a in enumerate(sorted(kept))}
    perm = tuple(rerank[a] for a in kept)
    return Act(out, perm if perm != tuple(range(len(perm))) else None)
