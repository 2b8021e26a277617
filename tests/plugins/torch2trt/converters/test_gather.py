from __future__ import annotations

import torch
from torch import nn

from t2t_harness import Lambda, assert_matches, seeded


def test_index_select_with_constant_index() -> None:
    index = torch.tensor([2, 0, 1, 2])
    assert_matches(Lambda(lambda x: torch.index_select(x, 1, index)), seeded(2, 3, 4))


def test_embedding() -> None:
    torch.manual_seed(0)
    table = nn.Embedding(10, 4)
    assert_matches(table, torch.tensor([[1, 2, 9], [0, 0, 5]]), inputs=None)


def test_single_tensor_index() -> None:
    index = torch.tensor([3, 1])
    assert_matches(Lambda(lambda x: x[:, index]), seeded(2, 5, 3))
