from __future__ import annotations

import pytest
import torch
from torch import nn

from t2t_harness import assert_matches, seeded


@pytest.mark.parametrize("layer", [
    nn.ReLU(), nn.ReLU6(), nn.Sigmoid(), nn.Tanh(), nn.GELU(), nn.GELU(approximate="tanh"),
    nn.SiLU(), nn.Hardswish(), nn.Hardsigmoid(), nn.LeakyReLU(0.2), nn.ELU(0.5), nn.Softplus(),
    nn.Hardtanh(-0.5, 2.0),
], ids=repr)
@pytest.mark.parametrize("shape", [(2, 5), (1, 3, 4, 4)])
def test_activation(layer: nn.Module, shape: tuple[int, ...]) -> None:
    assert_matches(layer, seeded(*shape, scale=3.0))


@pytest.mark.parametrize("low,high", [(-1.0, 1.0), (0.0, None), (None, 0.5)])
def test_clamp(low: float | None, high: float | None) -> None:
    from t2t_harness import Lambda

    assert_matches(Lambda(lambda x: torch.clamp(x, low, high)), seeded(3, 7, scale=2.0))
