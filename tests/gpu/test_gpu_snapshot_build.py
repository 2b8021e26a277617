"""GPU: `trtforge build SNAPSHOT` rebuilds a snapshot with this machine's TensorRT and it agrees.

Snapshots made on another machine (the seed models, ``tests/gpu/make_fixtures.py``) are rebuilt
and checked by ``tests/gpu/test_gpu_seeds.py``. Skipped (with the reason) where no engine can run;
see tests/conftest.py.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.gpu

BATCH = 4


@pytest.fixture(scope="module")
def converted(resnet18_fp32: tuple[Any, Any, Any], tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Path]:
    """(model, x, engine path saved with its snapshot), fp32 without TF32."""
    model, x, engine = resnet18_fp32
    path = engine.save(tmp_path_factory.mktemp("snapbuild") / "r18.engine", snapshot=True)
    return model, x, path


def _reference(model: Any, x: Any) -> Any:
    import torch

    with torch.no_grad():
        return model.cuda()(x.cuda()).float().cpu().numpy()


def test_rebuilt_engine_runs_and_agrees_with_the_original_and_pytorch(converted: tuple[Any, Any, Path]) -> None:
    import trtforge
    from trtforge.verify.checking import compare_arrays, tolerance_for
    from trtforge.conversion.specs import BuildSettings

    model, x, path = converted
    original = trtforge.Engine.load(path)
    rebuilt = trtforge.build_snapshot(f"{path}.snapshot.json", settings=BuildSettings(tf32=False))
    assert rebuilt.metadata["from_snapshot"]["layers"] > 0
    assert rebuilt.metadata["route"] == original.metadata["route"]
    assert rebuilt.metadata["source"]["fingerprint"] == original.metadata["source"]["fingerprint"]
    assert rebuilt.inputs == original.inputs and rebuilt.outputs == original.outputs
    feeds = {original.inputs[0]["name"]: x.numpy()}
    ref = _reference(model, x)
    first = next(iter(original.run(feeds).values()))
    again = next(iter(rebuilt.run(feeds).values()))
    for got in (first, again):
        metrics = compare_arrays("y", ref, got, tolerance_for("fp32"))
        assert metrics.passed, metrics


def test_fp32_snapshot_builds_at_fp16_with_builder_flags_where_typing_is_weak(
        converted: tuple[Any, Any, Path]) -> None:
    import trtforge
    from trtforge.verify.checking import compare_arrays, tolerance_for
    from trtforge.errors import UsageError
    from trtforge.tensorrt.trt import get_tensorrt

    model, x, path = converted
    if not get_tensorrt().facts.precision_via_builder_flags:
        with pytest.raises(UsageError, match="strongly typed"):
            trtforge.build_snapshot(f"{path}.snapshot.json", precision="fp16")
        return
    engine = trtforge.build_snapshot(f"{path}.snapshot.json", precision="fp16")
    assert engine.precision == "fp16" and "FP16" in engine.metadata["build"]["settings"]["builder_flags"]
    got = next(iter(engine.run({engine.inputs[0]["name"]: x.numpy()}).values()))
    metrics = compare_arrays("y", _reference(model, x), got, tolerance_for("fp16"))
    assert metrics.cosine > 0.999 and metrics.top1 is not None and metrics.top1 >= 0.75, metrics

