"""Padding arithmetic shared by convolution, deconvolution and pooling (TensorRT PaddingMode)."""
from __future__ import annotations

import math
from typing import Sequence


def forward_padding(
    mode: str, sizes: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
    dilation: Sequence[int], pre: Sequence[int], post: Sequence[int],
) -> tuple[list[int], list[int], list[int]]:
    """(pre, post, extra) per spatial dim for a convolution-like window.

    ``extra`` is the overhang that EXPLICIT_ROUND_UP adds at the end so the last, partial
    window exists; SAME_* modes ignore the explicit padding and pad so that
    ``out = ceil(in / stride)``, with the odd element at the end (UPPER) or start (LOWER).
    """
    pres, posts, extras = [], [], []
    for i, size in enumerate(sizes):
        span = dilation[i] * (kernel[i] - 1) + 1
        if mode in ("SAME_UPPER", "SAME_LOWER"):
            out = math.ceil(size / stride[i])
            total = max(0, (out - 1) * stride[i] + span - size)
            small, big = total // 2, total - total // 2
            pres.append(small if mode == "SAME_UPPER" else big)
            posts.append(big if mode == "SAME_UPPER" else small)
            extras.append(0)
            continue
        padded = size + pre[i] + post[i]
        pres.append(pre[i])
        posts.append(post[i])
        if mode == "EXPLICIT_ROUND_UP":
            out = math.ceil((padded - span) / stride[i]) + 1
            extras.append(max(0, (out - 1) * stride[i] + span - padded))
        else:
            extras.append(0)
    return pres, posts, extras


def torch_pad_list(pre: Sequence[int], post: Sequence[int]) -> list[int]:
    """F.pad wants (last_pre, last_post, second_last_pre, ...)."""
    pads: list[int] = []
    for a, b in zip(reversed(list(pre)), reversed(list(post))):
        pads += [int(a), int(b)]
    return pads
