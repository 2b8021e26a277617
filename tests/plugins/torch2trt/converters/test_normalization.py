from __future__ import annotations

import pytest
import torch
from torch import nn

from t2t_harness import assert_matches, layer_types, seeded


def _randomize(norm: nn.Module) -> nn.Module:
    torch.manual_seed(0)
    with torch.no_grad():
        for p in norm.parameters():
            p.uniform_(0.5, 1.5)
        if hasattr(norm, "running_mean") and norm.running_mean is not None:
            norm.running_mean.uniform_(-1, 1)
            norm.running_var.uniform_(0.5, 2)
    return norm.eval()


@pytest.mark.parametrize("layer,shape", [
    (nn.BatchNorm2d(4), (2, 4, 5, 5)), (nn.BatchNorm1d(6), (3, 6)), (nn.BatchNorm1d(3), (2, 3, 7)),
    (nn.BatchNorm2d(4, affine=False), (1, 4, 3, 3)),
], ids=["bn2d", "bn1d_2d", "bn1d_3d", "bn_no_affine"])
def test_batch_norm(layer: nn.Module, shape: tuple[int, ...]) -> None:
    assert_matches(_randomize(layer), seeded(*shape))


def test_batch_norm_is_one_scale_layer() -> None:
    assert layer_types(assert_matches(_randomize(nn.BatchNorm2d(4)), seeded(1, 4, 3, 3))) == ["SCALE"]


@pytest.mark.parametrize("layer,shape", [
    (nn.LayerNorm(8), (2, 5, 8)), (nn.LayerNorm((4, 4)), (2, 3, 4, 4)),
    (nn.GroupNorm(4, 4), (1, 4, 5, 5)),
])
def test_layer_and_group_norm(layer: nn.Module, shape: tuple[int, ...]) -> None:
    assert_matches(_randomize(layer), seeded(*shape))


def test_group_norm_with_fewer_groups_than_channels_builds() -> None:
    """TensorRT takes per-group scale/shift ([1, G, 1, 1]); the per-channel affine follows.
    (Numerics for G < C wait for the reference executor's per-group normalization.)"""
    from t2t_harness import convert

    engine = convert(_randomize(nn.GroupNorm(2, 4)), [seeded(2, 4, 3, 3)])
    assert layer_types(engine).count("NORMALIZATION") == 1 and engine.plan
