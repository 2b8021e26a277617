"""Engine files: plan + JSON sidecar, written atomically, validated on load."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import trtforge
from trtforge.conversion.engine import Engine, sidecar_path
from trtforge.errors import EngineCompatibilityError, EngineFileError


@pytest.fixture
def saved(tiny: Any, tiny_model: Any, tmp_path: Path) -> Path:
    engine = trtforge.convert(tiny_model, backend="tiny", target="sm89", cache=False)
    return engine.save(tmp_path / "tiny.engine")


def test_save_and_load_round_trip(saved: Path) -> None:
    meta = json.loads(sidecar_path(saved).read_text())
    assert meta["plan"]["size"] == saved.stat().st_size
    engine = Engine.load(saved)
    assert engine.route == "tiny" and engine.target == "sm89" and engine.precision == "fp32"
    assert engine.inputs == [{"name": "x", "dtype": "float32", "shape": [1, 3, 8, 8]}]
    assert engine.outputs[0]["name"] == "y"
    assert engine.metadata["tensorrt"]["flavor"] == "tensorrt_rtx"
    assert engine.metadata["source"]["kind"] == "tiny-model"
    assert "build" in engine.metadata["build"]["stages"]
    assert not list(saved.parent.glob("*.tmp")), "no temporary file left behind"


def test_plan_is_raw_tensorrt_plan(saved: Path) -> None:
    assert saved.read_bytes()[:4] == b"vtrt"  # what trtexec/Triton read, untouched


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(EngineFileError, match="not found"):
        Engine.load(tmp_path / "nope.engine")
    with pytest.raises(EngineFileError, match="is a directory"):
        Engine.load(tmp_path)


def test_missing_sidecar(saved: Path) -> None:
    sidecar_path(saved).unlink()
    with pytest.raises(EngineFileError, match="no sidecar tiny.engine.json"):
        Engine.load(saved)


def test_corrupt_sidecar(saved: Path) -> None:
    sidecar_path(saved).write_text("{not json")
    with pytest.raises(EngineFileError, match="not valid JSON"):
        Engine.load(saved)


def test_truncated_plan(saved: Path) -> None:
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(EngineFileError, match="truncated"):
        Engine.load(saved)


def test_modified_plan_same_size(saved: Path) -> None:
    data = bytearray(saved.read_bytes())
    data[100] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(EngineFileError, match="hash"):
        Engine.load(saved)


def test_sidecar_from_another_tensorrt_version(saved: Path) -> None:
    side = sidecar_path(saved)
    meta = json.loads(side.read_text())
    meta["tensorrt"] = {"flavor": "tensorrt", "version": "8.6.1"}
    side.write_text(json.dumps(meta))
    with pytest.raises(EngineCompatibilityError, match="built by tensorrt 8.6.1"):
        Engine.load(saved)
    # inspect-style reads still work
    assert Engine.load(saved, check_compatibility=False).metadata["tensorrt"]["version"] == "8.6.1"


def test_save_into_directory_is_refused(tiny: Any, tiny_model: Any, tmp_path: Path) -> None:
    engine = trtforge.convert(tiny_model, backend="tiny", target="sm89", cache=False)
    with pytest.raises(EngineFileError, match="is a directory"):
        engine.save(tmp_path)
