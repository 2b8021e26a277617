from __future__ import annotations

import pytest
import torch

from trtforge import InputSpec
from t2t_harness import Lambda, assert_matches, seeded


@pytest.mark.parametrize("fn", [
    lambda x: x.view(x.size(0), -1), lambda x: x.reshape(-1, 4), lambda x: x.permute(0, 2, 3, 1),
    lambda x: x.transpose(1, 2), lambda x: x.flatten(1), lambda x: x.unsqueeze(1).squeeze(1),
    lambda x: x[:, 1:3, ::2], lambda x: x[:, 0], lambda x: torch.cat([x, x * 2], dim=1),
    lambda x: x.split([1, 3], dim=1)[1], lambda x: x.chunk(2, dim=2)[0].contiguous(),
    lambda x: x[:, :1].expand(-1, 4, -1, -1),
], ids=["view_size", "reshape", "permute", "transpose", "flatten", "unsqueeze_squeeze", "slice",
        "select", "cat", "split_sizes", "chunk", "expand"])
def test_static_shapes(fn: object) -> None:
    assert_matches(Lambda(fn), seeded(2, 4, 4, 6))


@pytest.mark.parametrize("fn", [
    lambda x: x.view(x.size(0), -1), lambda x: x.flatten(1), lambda x: x.permute(0, 2, 3, 1),
    lambda x: torch.cat([x, x], dim=1), lambda x: x.unsqueeze(0).squeeze(0),
    lambda x: x.view(x.size(0) * 2, -1),
], ids=["view_size", "flatten", "permute", "cat", "unsqueeze_squeeze", "symbolic_mul"])
def test_dynamic_batch(fn: object) -> None:
    spec = InputSpec("x", min=(1, 4, 4, 6), opt=(2, 4, 4, 6), max=(8, 4, 4, 6))
    assert_matches(Lambda(fn), inputs=[spec], feeds=[seeded(5, 4, 4, 6)])
