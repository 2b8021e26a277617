from __future__ import annotations

import pytest
import torch

from t2t_harness import Lambda, assert_matches, seeded


@pytest.mark.parametrize("pads,value", [((1, 1), 0.0), ((1, 2, 0, 3), 0.0), ((2, 0, 1, 1), -1.5)])
def test_constant_pad(pads: tuple[int, ...], value: float) -> None:
    assert_matches(Lambda(lambda x: torch.nn.functional.pad(x, pads, value=value)), seeded(2, 3, 4, 5))
