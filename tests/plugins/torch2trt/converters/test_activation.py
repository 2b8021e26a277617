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


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_composed_where_tensorrt_has_no_gelu_activation(
        approximate: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """TensorRT 8.x has no GELU_ERF/GELU_TANH activation: the converter composes GELU from
    erf (or tanh) and elementwise layers, which every version has."""
    from t2t_harness import layer_types

    from trtforge_torch2trt.impl import activation

    monkeypatch.setattr(activation, "has_activation", lambda net, kind: not kind.startswith("GELU"))
    engine = assert_matches(nn.GELU(approximate=approximate), seeded(2, 3, 4, 4, scale=3.0))
    types = layer_types(engine)
    assert "ELEMENTWISE" in types and ("UNARY" in types if approximate == "none" else "ACTIVATION" in types)
