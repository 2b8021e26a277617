from __future__ import annotations

import pytest
import torch

from t2t_harness import Lambda, assert_matches, seeded


@pytest.mark.parametrize("fn", [
    lambda x: x.mean((2, 3), keepdim=True), lambda x: x.mean(-1), lambda x: x.sum(1),
    lambda x: x.sum((1, 2), keepdim=True), lambda x: x.amax(1), lambda x: x.amin((2, 3)),
    lambda x: x.var(1, unbiased=False), lambda x: x.var((2, 3), keepdim=True),
], ids=["mean_keep", "mean_last", "sum", "sum_keep", "amax", "amin", "var_biased", "var"])
def test_reduce(fn: object) -> None:
    assert_matches(Lambda(fn), seeded(2, 3, 4, 5))
