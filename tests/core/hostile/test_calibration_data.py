"""Hostile INT8 calibration data, through the API (onnx_trt route) and ``compare --calibration``:
one UsageError naming the batch/argument, with a hint; nothing written."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import trtforge
from trtforge.int8.calibration import Calibration
from trtforge.errors import TrtforgeError, UsageError


def _good(n: int = 4) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, 3, 8, 8)).astype(np.float32)


def _with(value: float, at: int) -> np.ndarray:
    data = _good(8)
    data[at, 1, 2, 3] = value
    return data


CONSTRUCTION = {
    "batch-size-0": dict(data=_good(), batch_size=0),
    "batch-size-negative": dict(data=_good(), batch_size=-4),
    "batch-size-float": dict(data=_good(), batch_size=1.5),
    "batch-size-string": dict(data=_good(), batch_size="8"),
    "batch-size-bool": dict(data=_good(), batch_size=True),
    "max-batches-0": dict(data=_good(), max_batches=0),
    "max-batches-string": dict(data=_good(), max_batches="all"),
    "data-string": dict(data="images/"),
    "data-bytes": dict(data=b"\x00\x01"),
    "data-path": dict(data=Path("calib.npy")),
}


@pytest.mark.parametrize("name", sorted(CONSTRUCTION))
def test_bad_calibration_arguments(name: str) -> None:
    with pytest.raises(UsageError) as caught:
        Calibration(**CONSTRUCTION[name])
    assert caught.value.hint and "\n" not in caught.value.message and "calibration" in caught.value.message


BATCHES = {
    "nan-first": (lambda: _with(np.nan, 0), "batch 0"),
    "nan-last": (lambda: _with(np.nan, 7), "batch 3"),
    "inf": (lambda: _with(np.inf, 3), "batch 1"),
    "minus-inf": (lambda: _with(-np.inf, 5), "batch 2"),
    "all-nan": (lambda: np.full((2, 3, 8, 8), np.nan, np.float32), "batch 0"),
    "wrong-channels": (lambda: np.zeros((2, 4, 8, 8), np.float32), "shape 2x4x8x8"),
    "wrong-rank": (lambda: np.zeros((2, 3, 8), np.float32), "shape 2x3x8"),
    "wrong-spatial": (lambda: np.zeros((2, 3, 9, 9), np.float32), "shape 2x3x9x9"),
    "strings": (lambda: np.array([["a", "b"]]), "not numbers"),
    "objects": (lambda: np.array([{"a": 1}, None], dtype=object), "not numbers"),
    "complex": (lambda: np.zeros((2, 3, 8, 8), np.complex64), "not numbers"),
    "empty-list": (lambda: [], "no batch"),
    "too-many-tensors": (lambda: [(_good(2), _good(2))], "2 tensors"),
    "unknown-name": (lambda: [{"nope": _good(2)}], "'nope'"),
}


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_bad_calibration_batches_in_convert(scene: Any, artifacts: dict[str, Path], name: str) -> None:
    make, fragment = BATCHES[name]
    model = scene.copy(artifacts["model"])
    scene.before = {}
    with pytest.raises(TrtforgeError) as caught:
        trtforge.convert(model, backend="onnx_trt", precision="int8", target="sm89",
                         calibration=Calibration(data=make(), batch_size=2), cache=scene.path("c"))
    assert isinstance(caught.value, UsageError), repr(caught.value)
    assert fragment in caught.value.message and caught.value.hint
    assert "\n" not in caught.value.message
    assert not list(scene.tmpdir.iterdir())
    assert not list(scene.path("c").rglob("engine.plan")) if scene.path("c").exists() else True


@pytest.mark.parametrize("name", ["nan-last", "wrong-channels", "objects", "strings"])
def test_bad_calibration_file_in_compare(scene: Any, artifacts: dict[str, Path], name: str) -> None:
    make, _ = BATCHES[name]
    model = scene.copy(artifacts["model"])
    calib = scene.path("calib.npy")
    np.save(calib, make(), allow_pickle=True)
    scene.run("compare", model, "--backends", "onnx_trt", "--precisions", "int8", "--target", "sm89",
              "--no-cache", "--no-baselines", "--calibration", calib)
    if name == "objects":
        scene.assert_failure(2, "calib.npy", )
    else:
        scene.assert_failure(1, "tiny.onnx")  # every conversion failed: the row says why
        assert "calibration batch" in scene.out


@pytest.mark.parametrize("name, fragment", [("wrong-spatial", "shape 2x3x9x9"), ("nan-last", "batch 3"),
                                            ("wrong-rank", "shape 2x3x8"), ("strings", "not numbers")])
def test_bad_calibration_batches_in_torch2trt(scene: Any, name: str, fragment: str) -> None:
    import torch

    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU()).eval()
    make, _ = BATCHES[name]
    with pytest.raises(UsageError) as caught:
        trtforge.convert(module, backend="torch2trt", precision="int8", inputs=[torch.zeros(1, 3, 8, 8)],
                         calibration=Calibration(data=make(), batch_size=2), target="sm89", cache=False)
    assert fragment in caught.value.message and caught.value.hint
    assert not list(scene.tmpdir.glob("trtforge-*"))  # torch keeps its own inductor folder there
