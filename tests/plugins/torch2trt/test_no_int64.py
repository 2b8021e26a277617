"""TensorRT < 10 has no INT64 tensors: the route builds shape arithmetic in INT32 there.

TensorRT 8.6 itself only runs on a GPU, so the fact "no INT64" is switched off on the
installed TensorRT-RTX: the network is then built, snapshotted and checked like any other, and
must hold no INT64 tensor anywhere.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pytest
import torch

from trtforge import InputSpec
from trtforge.verify.checking import check, resolve_snapshot
from trtforge.tensorrt.trt import TrtFacts

from .t2t_harness import Lambda, convert, seeded


@pytest.fixture
def no_int64(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(TrtFacts, "int64_tensors", property(lambda self: False))
    yield


class Flatten(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 8 * 8, 5)

    def forward(self, x: torch.Tensor) -> Any:
        y = torch.relu(self.conv(x))
        return self.fc(y.view(y.size(0), -1))  # symbolic batch: Shape -> Gather -> Concat


def _dtypes(engine: Any) -> set[str]:
    """Output dtypes of every layer but SHAPE (whose INT64 output TensorRT 10+ and RTX fix;
    TensorRT 8.6's IShapeLayer gives INT32)."""
    snapshot, _ = resolve_snapshot(engine)
    return {out["dtype"] for layer in snapshot.layers if layer["type"] != "SHAPE"
            for out in layer["outputs"]}


def test_dynamic_flatten_builds_in_int32(no_int64: None) -> None:
    torch.manual_seed(0)
    module = Flatten().eval()
    spec = InputSpec("x", min=(1, 3, 8, 8), opt=(2, 3, 8, 8), max=(4, 3, 8, 8))
    engine = convert(module, [spec])
    dtypes = _dtypes(engine)
    assert "int64" not in dtypes and "int32" in dtypes, dtypes
    for batch in (1, 3):
        feeds = [np.asarray(seeded(batch, 3, 8, 8, seed=batch))]
        report = check(module, engine, inputs=feeds)
        assert report.passed, report.outputs


def test_int64_constant_that_does_not_fit_is_refused_by_name(no_int64: None) -> None:
    from trtforge.errors import TrtforgeError

    big = torch.tensor([2**40], dtype=torch.int64)
    module = Lambda(lambda x: x + big.to(x.device)).eval()
    with pytest.raises(TrtforgeError, match=r"outside int32.*no INT64"):
        convert(module, [torch.zeros(2, dtype=torch.int64)])


def test_facts_per_version() -> None:
    assert not TrtFacts.of("tensorrt", "8.6.0").int64_tensors
    assert TrtFacts.of("tensorrt", "8.6.0").index_dtype == "int32"
    assert TrtFacts.of("tensorrt", "10.3.0").index_dtype == "int64"
    assert TrtFacts.of("tensorrt_rtx", "1.7.1").int64_tensors

