from __future__ import annotations

import pytest

from trtforge.errors import UsageError
from trtforge.conversion.specs import InputSpec, Precision, ShapeProfile, Target, canonical_dtype


def test_fixed_shape_is_one_static_profile() -> None:
    spec = InputSpec("x", shape=(1, 3, 8, 8))
    assert spec.profiles == (ShapeProfile((1, 3, 8, 8), (1, 3, 8, 8), (1, 3, 8, 8)),)
    assert not spec.is_dynamic
    assert spec.network_shape() == (1, 3, 8, 8)


def test_min_opt_max_marks_varying_dims_dynamic() -> None:
    spec = InputSpec("x", min=(1, 3, 8, 8), opt=(4, 3, 8, 8), max=(8, 3, 8, 8))
    assert spec.is_dynamic
    assert spec.network_shape() == (-1, 3, 8, 8)


def test_several_profiles_merge_network_shape() -> None:
    spec = InputSpec("x", profiles=[((1, 3, 8, 8),) * 3, ((4, 3, 16, 16),) * 3])
    assert spec.network_shape() == (-1, 3, -1, -1)
    assert len(spec.profiles) == 2


@pytest.mark.parametrize("kwargs", [
    {},
    {"shape": (1, 3), "min": (1, 3), "opt": (1, 3), "max": (1, 3)},
    {"min": (1, 3), "opt": (2, 3)},
    {"min": (4, 3), "opt": (2, 3), "max": (8, 3)},
    {"shape": (-1, 3)},
])
def test_bad_specs_raise_usage_error(kwargs: dict) -> None:
    with pytest.raises(UsageError):
        InputSpec("x", **kwargs)


def test_parse_cli_forms() -> None:
    assert InputSpec.parse("x:1x3x8x8").profiles[0].opt == (1, 3, 8, 8)
    spec = InputSpec.parse("images:fp16:1x3x8x8,2x3x8x8,4x3x8x8")
    assert spec.dtype == "float16" and spec.profiles[0].max == (4, 3, 8, 8)
    assert len(InputSpec.parse("x:1x3,1x3,2x3;4x3,4x3,8x3").profiles) == 2
    with pytest.raises(UsageError, match="cannot parse shape"):
        InputSpec.parse("x:1x3xa")
    with pytest.raises(UsageError, match="cannot parse input spec"):
        InputSpec.parse("x")


def test_round_trip_dict() -> None:
    spec = InputSpec("x", min=(1, 3), opt=(2, 3), max=(4, 3))
    assert InputSpec.from_dict(spec.to_dict()) == spec


def test_precision_and_dtype_and_target() -> None:
    assert Precision.parse("FP16") is Precision.FP16
    with pytest.raises(UsageError, match="unknown precision 'fp8'.*fp32, fp16, bf16, int8"):
        Precision.parse("fp8")
    assert canonical_dtype("torch.float16") == "float16"
    assert canonical_dtype("float32") == "float32"
    with pytest.raises(UsageError):
        canonical_dtype("complex64")
    assert Target.parse("SM89") == Target(8, 9)
    assert Target.parse("sm120").name == "sm120"
    assert Target.parse("8.6").name == "sm86"
    with pytest.raises(UsageError, match="sm89"):
        Target.parse("rtx4090")
