"""GPU: `trtforge profile` on a real engine — per-layer times and fused layers mapped to source ops.

Skipped (with the reason) where no engine can run; see tests/conftest.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.gpu

BATCH = 4
ITERATIONS = 20


@pytest.fixture(scope="module")
def engine(resnet18_fp32: tuple[Any, Any, Any]) -> Any:
    return resnet18_fp32[2]


def test_profile_times_layers_and_maps_them_to_source_ops(engine: Any) -> None:
    from trtforge.report.profiling import profile_engine

    report = profile_engine(engine, batch=BATCH, iterations=ITERATIONS)
    data = report.to_dict()
    assert report.layers, data
    assert all(layer.calls == ITERATIONS for layer in report.layers), data["layers"]
    assert all(layer.total_ms >= 0 for layer in report.layers)
    layer_sum = sum(layer.total_ms for layer in report.layers) / ITERATIONS
    assert layer_sum == pytest.approx(report.total_ms, rel=1e-6)
    assert 0 < report.total_ms <= report.wall_ms * 1.05, data  # layers fit inside the wall time
    assert sum(layer.share for layer in report.layers) == pytest.approx(1.0, rel=1e-6)
    assert [l.total_ms for l in report.layers] == sorted((l.total_ms for l in report.layers), reverse=True)
    mapped = [layer for layer in report.layers if layer.sources]
    assert mapped, [layer.name for layer in report.layers]
    assert any(layer.layer_type for layer in report.layers), "no kernel types: not DETAILED?"
    print(json.dumps({k: v for k, v in data.items() if k != "layers"}, indent=1))
    for layer in report.layers[:10]:
        print(f"{layer.share:6.1%} {layer.average_ms:8.4f} ms  {layer.name}  <- {layer.sources[:3]}")


def test_profile_cli_writes_json(engine: Any, tmp_path: Path) -> None:
    path = engine.save(tmp_path / "r18.engine", snapshot=True)
    out = tmp_path / "profile.json"
    result = subprocess.run([sys.executable, "-m", "trtforge", "profile", str(path), "--batch",
                             str(BATCH), "--iterations", "5", "--top", "8", "-o", str(out)],
                            capture_output=True, text=True, encoding="utf-8", errors="replace",
                            env=dict(os.environ), timeout=600)
    assert result.returncode == 0, result.stderr
    assert "others" in result.stdout and "mapped to source ops" in result.stdout
    data = json.loads(out.read_text())
    assert data["batch"] == BATCH and data["iterations"] == 5 and data["mapped_layers"] > 0
