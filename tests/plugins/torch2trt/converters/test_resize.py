from __future__ import annotations

import pytest
from torch import nn

from t2t_harness import assert_matches, seeded


@pytest.mark.parametrize("layer", [
    nn.Upsample(scale_factor=2, mode="nearest"), nn.Upsample(size=(7, 9), mode="nearest"),
    nn.Upsample(scale_factor=2, mode="bilinear"), nn.Upsample(size=(6, 10), mode="bilinear", align_corners=True),
], ids=repr)
def test_upsample(layer: nn.Module) -> None:
    assert_matches(layer, seeded(1, 2, 4, 5))
