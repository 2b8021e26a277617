from __future__ import annotations

import pytest
import torch
from torch import nn

from trtforge import InputSpec
from t2t_harness import Lambda, assert_matches, seeded


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(3, 16), (2, 5, 16)])
def test_linear(bias: bool, shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    assert_matches(nn.Linear(16, 7, bias=bias), seeded(*shape))


def test_linear_dynamic_batch() -> None:
    torch.manual_seed(0)
    spec = InputSpec("x", min=(1, 16), opt=(4, 16), max=(16, 16))
    assert_matches(nn.Linear(16, 7), inputs=[spec], feeds=[seeded(9, 16)])


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 6))])
def test_matmul(shapes: tuple) -> None:
    assert_matches(Lambda(torch.matmul), seeded(*shapes[0], seed=1), seeded(*shapes[1], seed=2))
