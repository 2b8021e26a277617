from __future__ import annotations

import pytest
import torch

from trtforge import InputSpec
from t2t_harness import Lambda, assert_matches, seeded


@pytest.mark.parametrize("fn", [
    lambda x: x.view(x.size(0), -1), lambda x: x.reshape(-1, 4), lambda x: x.permute(0, 2, 3, 1),
    lambda x: x.transpose(1, 2), lambda x: x.flatten(1), lambda x: x.unsqueeze(1).squeeze(1),
    lambda x: x[:, 1:3, ::2], lambda x: x[:, 0], lambda x: torch.cat([x, x * 2], dim=1),
    lambda x: x.split([1, 3], dim=1)[1], lambda x: x.chunk(2, dim=2)[0].contiguous(),
    lambda x: x[:, :1].expand(-1, 4, -1, -1),
], ids=["view_size", "reshape", "permute", "transpose", "flatten", "unsqueeze_squeeze", "slice",
        "select", "cat", "split_sizes", "chunk", "expand"])
def test_static_shapes(fn: object) -> None:
    assert_matches(Lambda(fn), seeded(2, 4, 4, 6))


@pytest.mark.parametrize("fn", [
    lambda x: x.view(x.size(0), -1), lambda x: x.flatten(1), lambda x: x.permute(0, 2, 3, 1),
    lambda x: torch.cat([x, x], dim=1), lambda x: x.unsqueeze(0).squeeze(0),
    lambda x: x.view(x.size(0) * 2, -1),
], ids=["view_size", "flatten", "permute", "cat", "unsqueeze_squeeze", "symbolic_mul"])
def test_dynamic_batch(fn: object) -> None:
    spec = InputSpec("x", min=(1, 4, 4, 6), opt=(2, 4, 4, 6), max=(8, 4, 4, 6))
    assert_matches(Lambda(fn), inputs=[spec], feeds=[seeded(5, 4, 4, 6)])


@pytest.mark.parametrize("fn", [
    # convnext/swin pool a permuted tensor: export writes the view as as_strided over storage
    lambda x: torch.as_strided(x.permute(0, 2, 3, 1), (2, 4, 6, 4), (96, 1, 4, 24)),
    lambda x: torch.as_strided(x, (2, 3, 2), (96, 7, 1), 5),  # overlapping windows, an offset
    lambda x: torch.as_strided(x, (2, 4, 3), (96, 0, 2)),  # a stride of 0 (broadcast)
], ids=["permuted_storage", "windows_offset", "zero_stride"])
def test_as_strided_reads_the_storage_positions_pytorch_reads(fn: object) -> None:
    assert_matches(Lambda(fn), seeded(2, 4, 4, 6))


def test_as_strided_past_the_storage_is_refused_by_name() -> None:
    from trtforge.errors import UnsupportedOperationsError

    from t2t_harness import convert

    with pytest.raises(UnsupportedOperationsError, match="as_strided"):
        convert(Lambda(lambda x: torch.as_strided(x[:, :2], (2, 2), (1, 1), 1)), [seeded(2, 4)],
                fallback="never")


@pytest.mark.parametrize("value, dtype", [(-1.5, None), (float("-inf"), None), (3, torch.int32)],
                         ids=["float", "minus_inf", "int32"])
def test_full_like_fills_the_input_shape(value: float, dtype: object) -> None:
    def fn(x: torch.Tensor) -> torch.Tensor:
        filled = torch.full_like(x, value, dtype=dtype)
        return torch.maximum(filled.float(), x) if dtype is not None else torch.maximum(filled, x)

    assert_matches(Lambda(fn), seeded(2, 4, 6))


def test_full_like_with_a_dynamic_batch() -> None:
    spec = InputSpec("x", min=(1, 4, 6), opt=(2, 4, 6), max=(8, 4, 6))
    assert_matches(Lambda(lambda x: x + torch.full_like(x, 0.25)), inputs=[spec], feeds=[seeded(5, 4, 6)])
