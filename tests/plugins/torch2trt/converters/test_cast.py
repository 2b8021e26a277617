from __future__ import annotations

import pytest
import torch

from t2t_harness import Lambda, assert_matches, seeded


@pytest.mark.parametrize("fn", [
    lambda x: (x * 3).to(torch.int32).float(), lambda x: (x > 0).to(torch.float32) * x,
    lambda x: x.half().float(),
], ids=["int_roundtrip", "bool_mask", "half_roundtrip"])
def test_casts(fn: object) -> None:
    assert_matches(Lambda(fn), seeded(2, 6))
