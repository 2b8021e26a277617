from __future__ import annotations

import pytest
import torch

from t2t_harness import Lambda, assert_matches, seeded


@pytest.mark.parametrize("dim", [-1, 1])
@pytest.mark.parametrize("log", [False, True])
def test_softmax(dim: int, log: bool) -> None:
    fn = torch.log_softmax if log else torch.softmax
    assert_matches(Lambda(lambda x: fn(x, dim)), seeded(2, 5, 7, scale=4.0))
