"""Max and average pooling on NCHW-held activations, TensorFlow's SAME/VALID padding."""
from __future__ import annotations

from typing import Sequence

from trtforge_tf_trt.network import Act, NetworkContext


def pool(net: NetworkContext, x: Act, kind: str, window: Sequence[int], strides: Sequence[int],
         padding: str, name: str, channels_last: bool = True) -> Act:
    """``kind`` is ``MAX`` or ``AVERAGE``; SAME average pools exclude the padding from the
    count, as TensorFlow does."""
    trt = net.trt
    from trtforge_tf_trt.impl.conv import to_nchw

    x = to_nchw(net, x, channels_last)
    layer = net.network.add_pooling_nd(x.tensor, getattr(trt.PoolingType, kind),
                                       tuple(int(w) for w in window))
    layer.stride_nd = tuple(int(s) for s in strides)
    if padding == "SAME":
        layer.padding_mode = trt.PaddingMode.SAME_UPPER
    if kind == "AVERAGE":
        layer.average_count_excludes_padding = True
    return Act(net.finish(layer, name), x.perm)
