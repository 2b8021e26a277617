"""The demo: zoo models through every installed route into a report, and `trtforge demo`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trtforge.plugin.backends import registry
from trtforge_zoo.demo import compare_arguments, run_demo
from trtforge.errors import UsageError


def _routes_for(kind: str) -> list[str]:
    from trtforge.models.sources import ModelSource

    source = ModelSource(kind, None, "f", "probe")
    names = []
    for entry in registry().entries():
        try:
            if entry.backend.is_available() and entry.backend.accepts(source):
                names.append(entry.name)
        except Exception:  # a route that inspects the model object cannot judge a probe
            continue
    return names


def test_demo_arguments_for_the_digits_classifier() -> None:
    from trtforge_zoo import models as zoo

    digits = zoo.digits_classifier(epochs=1)
    arguments = compare_arguments(digits)
    (spec,) = arguments["inputs"]
    assert spec.profiles[0].min == (1, 1, 8, 8) and spec.profiles[0].max == (64, 1, 8, 8)
    x, y = arguments["data"]
    assert len(x) == len(y) == len(digits.extra["digits"].y_test)
    assert arguments["calibration"].shape[1:] == (1, 8, 8)
    assert arguments["reference"](x[:2]).shape == (2, 10)
    with pytest.raises(UsageError, match="unknown demo model"):
        run_demo(models=["model9"])


def test_demo_command_writes_and_prints_the_report(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    result = subprocess.run(
        [sys.executable, "-m", "trtforge", "demo", "--models", "digits", "--precisions", "fp32",
         "--out", str(out), "--no-cache", "--no-torch-compile"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "trtforge demo" in result.stdout and "need a GPU" in result.stdout
    assert "pytorch eager" in result.stdout and "cpu" in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert (out / "report.md").is_file()
    routes = _routes_for("torch-module")
    assert sorted(r["route"] for r in report["rows"]) == sorted(routes)
    for row in report["rows"]:
        assert row["status"] == "ok", row
        assert row["engine_bytes"] > 0 and row["target"] == "sm89"
    if not routes:
        assert any("no installed route accepts torch-module" in n for n in report["notes"])
    baseline = report["baselines"][0]
    assert baseline["framework"] == "pytorch eager" and baseline["device"] == "cpu"
    assert baseline["accuracy"] > 0.9  # the classifier really learned the digits
