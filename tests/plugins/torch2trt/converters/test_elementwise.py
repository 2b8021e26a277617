from __future__ import annotations

import pytest
import torch

from t2t_harness import Lambda, assert_matches, seeded


@pytest.mark.parametrize("fn", [
    lambda a, b: a + b, lambda a, b: a - 2 * b, lambda a, b: a * b, lambda a, b: a / (b.abs() + 1),
    lambda a, b: torch.maximum(a, b), lambda a, b: torch.minimum(a, b),
    lambda a, b: torch.where(a > b, a, b), lambda a, b: (a >= b).float() + (a != b).float(),
], ids=["add", "sub_alpha", "mul", "div", "max", "min", "where", "compare"])
@pytest.mark.parametrize("shapes", [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (4,)), ((1, 3, 1), (2, 1, 5))])
def test_binary_broadcast(fn: object, shapes: tuple) -> None:
    a, b = seeded(*shapes[0], seed=1), seeded(*shapes[1], seed=2)
    assert_matches(Lambda(fn), a, b)


@pytest.mark.parametrize("fn", [
    lambda x: x * 0.5 + 3, lambda x: 1 - x, lambda x: x ** 2, lambda x: x.abs() ** 0.5,
    lambda x: torch.exp(x), lambda x: torch.log(x.abs() + 1), lambda x: torch.rsqrt(x.abs() + 1),
    lambda x: -x, lambda x: torch.floor(x * 3), lambda x: torch.erf(x), lambda x: x.abs() ** 1.5,
    lambda x: torch.div(x * 4, 3, rounding_mode="floor"),
], ids=["scalar_affine", "rsub", "square", "sqrt", "exp", "log", "rsqrt", "neg", "floor", "erf",
        "pow", "floor_div"])
def test_unary_and_scalar(fn: object) -> None:
    assert_matches(Lambda(fn), seeded(2, 3, 5))


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_exp_stays_fp32_under_reduced_precision(precision: str) -> None:
    from t2t_harness import convert, layer_types

    engine = convert(Lambda(lambda x: torch.exp(x) * 2).eval(), [seeded(2, 8)], precision)
    types = layer_types(engine)
    # input cast, cast up for exp, exp, cast back, mul (+constant), output cast
    assert types.count("CAST") >= 4, types
