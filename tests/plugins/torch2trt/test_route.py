"""The route end to end: seed model4 at every precision, a trained classifier at reduced
precision, and the calibration cache shared through core's format."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from trtforge import InputSpec
from trtforge.calibration import Calibration, CalibrationCache
from trtforge.checking import check
from trtforge.zoo import accuracy, digits_classifier, model4_torch_resnet50
from t2t_harness import convert, layer_types, seeded

DYNAMIC_BATCH = InputSpec("x", min=(1, 3, 64, 64), opt=(2, 3, 64, 64), max=(8, 3, 64, 64))


@pytest.fixture(scope="module")
def model4() -> object:
    return model4_torch_resnet50(input_size=64)


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16", "int8"])
def test_model4_converts_with_dynamic_batch_at_every_precision(model4: object, precision: str) -> None:
    calibration = seeded(16, 3, 64, 64, seed=3) if precision == "int8" else None
    engine = convert(model4.model, [DYNAMIC_BATCH], precision, calibration=calibration)
    assert engine.plan and engine.route == "torch2trt" and engine.precision == precision
    assert engine.metadata["inputs"][0]["shape"] == [-1, 3, 64, 64]
    types = layer_types(engine)
    assert "SHAPE" in types  # x.view(x.size(0), -1) stays symbolic: no ONNX, no baked batch
    if precision == "int8":
        assert types.count("QUANTIZE") >= 50
    if precision == "fp32":
        feeds = [np.random.default_rng(0).standard_normal((3, 3, 64, 64)).astype(np.float32)]
        report = check(model4.model, engine, inputs=feeds)
        assert report.passed, report.outputs


@pytest.fixture(scope="module")
def digits() -> object:
    return digits_classifier()


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_trained_classifier_keeps_top1_in_reduced_precision(digits: object, precision: str) -> None:
    data = digits.extra["digits"]
    spec = InputSpec(min=(1, 1, 8, 8), opt=(64, 1, 8, 8), max=(600, 1, 8, 8))
    engine = convert(digits.model, [spec], precision)
    from trtforge.checking import resolve_snapshot
    from trtforge.reference import Executor

    snapshot, _ = resolve_snapshot(engine)
    got = next(iter(Executor(snapshot).run({snapshot.inputs[0]["name"]: data.x_test}).numpy().values()))
    want = digits.reference(data.x_test)
    agreement = float((got.argmax(1) == want.argmax(1)).mean())
    assert agreement >= 0.99, agreement


def test_int8_accuracy_within_one_point_and_cache_reuse(digits: object, tmp_path: Path) -> None:
    data = digits.extra["digits"]
    spec = InputSpec(min=(1, 1, 8, 8), opt=(64, 1, 8, 8), max=(600, 1, 8, 8))
    cache_file = tmp_path / "digits.calib.json"
    calibration = Calibration(data=data.x_train[:512], batch_size=64, cache=cache_file)
    engine = convert(digits.model, [spec], "int8", calibration=calibration)
    from trtforge.checking import resolve_snapshot
    from trtforge.reference import Executor

    snapshot, _ = resolve_snapshot(engine)
    got = next(iter(Executor(snapshot).run({snapshot.inputs[0]["name"]: data.x_test}).numpy().values()))
    fp32 = accuracy(digits.reference(data.x_test), data.y_test)
    int8 = accuracy(got, data.y_test)
    assert int8 >= fp32 - 0.01, (fp32, int8)
    assert layer_types(engine).count("QUANTIZE") >= 6
    # the cache is core's format, keyed by torch.export node names; a second conversion
    # reads every range from it instead of calibrating
    cache = CalibrationCache.load(cache_file)
    assert cache.producer == "torch2trt" and "relu" in cache.ranges
    assert engine.metadata["inputs"][0]["name"] in cache.ranges  # graph inputs by placeholder name
    again = convert(digits.model, [spec], "int8", calibration=Calibration(cache=cache_file))
    assert any("read from calibration cache" in note for note in again.metadata["notes"])


def test_int8_without_calibration_is_a_usage_error(digits: object) -> None:
    from trtforge.errors import UsageError

    with pytest.raises(UsageError, match="calibration"):
        convert(digits.model, [torch.zeros(1, 1, 8, 8)], "int8")
