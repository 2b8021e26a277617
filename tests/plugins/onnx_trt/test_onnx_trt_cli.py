"""`trtforge convert` with the onnx_trt route: a seed model end to end, and the pass options."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from trtforge_zoo import models as zoo
from trtforge.cli import main
from trtforge.conversion.engine import Engine


def test_cli_converts_the_frozen_graph_seed_to_an_fp16_engine(
        seed_model: Callable[[str], zoo.ZooModel], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = seed_model("model1")
    out = tmp_path / "out.engine"
    code = main(["convert", str(m.path), "--backend", "onnx_trt", "--precision", "fp16", "--target", "sm89",
                 "-o", str(out), "--no-cache"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "ok model1_frozen.pb via onnx_trt at fp16 for sm89" in printed
    assert "dynamic batch fixed to 1" in printed
    engine = Engine.load(out, check_compatibility=False)
    assert engine.precision == "fp16" and engine.target == "sm89" and engine.route == "onnx_trt"
    assert [i["name"] for i in engine.inputs] == ["input:0"]
    assert json.loads(out.with_name(out.name + ".json").read_text())["source"]["kind"] == "tf-frozen-graph"


def test_cli_lists_and_disables_passes(seed_model: Callable[[str], zoo.ZooModel], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "--list-passes", "--backend", "onnx_trt"]) == 0
    listed = capsys.readouterr().out
    for name in ("opset-upgrade", "onnxslim", "fold-flatten-shape", "remove-dead-nodes"):
        assert name in listed
    m = seed_model("model1")
    out = tmp_path / "no-slim.engine"
    code = main(["convert", str(m.path), "--backend", "onnx_trt", "--target", "sm89", "-o", str(out),
                 "--no-cache", "--disable-pass", "onnxslim", "--disable-pass", "remove-dead-nodes"])
    assert code == 0, capsys.readouterr()
    options = Engine.load(out, check_compatibility=False).metadata["build"]["options"]
    assert "onnxslim" in options["disable_passes"] and "remove-dead-nodes" in options["disable_passes"]
    code = main(["convert", str(m.path), "--backend", "onnx_trt", "--target", "sm89", "--no-cache",
                 "--disable-pass", "no-such-pass"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown pass(es) no-such-pass" in err and "fold-flatten-shape" in err
