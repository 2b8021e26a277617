from __future__ import annotations

import pytest
from torch import nn

from t2t_harness import assert_matches, layer_types, seeded


@pytest.mark.parametrize("layer", [
    nn.MaxPool2d(2), nn.MaxPool2d(3, stride=2, padding=1), nn.MaxPool2d(3, stride=2, ceil_mode=True),
    nn.AvgPool2d(2), nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
    nn.AvgPool2d(3, stride=2, ceil_mode=True),
], ids=repr)
def test_pool2d(layer: nn.Module) -> None:
    assert "POOLING" in layer_types(assert_matches(layer, seeded(2, 3, 11, 11)))


@pytest.mark.parametrize("output_size", [1, (2, 2), (3, 1), (4, 5), (7, 7)])
def test_adaptive_avg_pool(output_size: object) -> None:
    assert_matches(nn.AdaptiveAvgPool2d(output_size), seeded(2, 4, 6, 6))


def test_adaptive_pool_with_dynamic_batch() -> None:
    from trtforge import InputSpec

    spec = InputSpec("x", min=(1, 4, 8, 8), opt=(2, 4, 8, 8), max=(4, 4, 8, 8))
    assert_matches(nn.AdaptiveAvgPool2d(1), inputs=[spec], feeds=[seeded(3, 4, 8, 8)])
