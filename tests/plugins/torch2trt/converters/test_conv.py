from __future__ import annotations

import pytest
import torch
from torch import nn

from t2t_harness import assert_matches, layer_types, seeded


@pytest.mark.parametrize("kwargs", [
    dict(in_channels=3, out_channels=8, kernel_size=3, padding=1),
    dict(in_channels=4, out_channels=8, kernel_size=3, stride=2, dilation=2, bias=False),
    dict(in_channels=8, out_channels=8, kernel_size=3, padding=1, groups=8),
    dict(in_channels=4, out_channels=6, kernel_size=(1, 5), padding=(0, 2), groups=2),
])
def test_conv2d(kwargs: dict) -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(**kwargs)
    engine = assert_matches(conv, seeded(2, kwargs["in_channels"], 12, 12))
    assert "CONVOLUTION" in layer_types(engine)


def test_conv1d_and_conv3d() -> None:
    torch.manual_seed(0)
    assert_matches(nn.Conv1d(3, 5, 3, padding=1), seeded(2, 3, 16))
    assert_matches(nn.Conv3d(2, 4, 3), seeded(1, 2, 6, 6, 6))


@pytest.mark.parametrize("stride,output_padding", [(1, 0), (2, 1)])
def test_conv_transpose(stride: int, output_padding: int) -> None:
    torch.manual_seed(0)
    layer = nn.ConvTranspose2d(4, 3, 3, stride=stride, padding=1, output_padding=output_padding)
    assert "DECONVOLUTION" in layer_types(assert_matches(layer, seeded(1, 4, 7, 7)))


@pytest.mark.parametrize("precision", ["fp16", "bf16", "int8"])
def test_conv_reduced_precision_builds_with_typed_layers(precision: str) -> None:
    from t2t_harness import convert

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()).eval()
    x = seeded(4, 3, 10, 10)
    engine = convert(model, [x], precision, calibration=x if precision == "int8" else None)
    types = layer_types(engine)
    if precision == "int8":
        assert types.count("QUANTIZE") == 2 and types.count("DEQUANTIZE") == 2  # input + weight
    else:
        assert types[0] == "CAST" and types[-1] == "CAST"  # FP32 edges
