"""`trtforge profile`: the report logic on CPU, and the one-line error where engines cannot run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import trtforge
from trtforge.errors import RuntimeUnavailableError
from trtforge.report.profiling import (build_report, format_rows, network_layer_metadata,
                                       parse_engine_information, profile_engine, split_fused_name)

# The shape of IEngineInspector's JSON at ProfilingVerbosity.DETAILED (TensorRT 8.6 names
# fused layers "a + b"; 10.x adds Metadata joined by \x1e).
INSPECTOR_JSON = json.dumps({"Layers": [
    {"Name": "Reformatting CopyNode for Input Tensor 0 to conv1 + relu1", "LayerType": "Reformat"},
    {"Name": "conv1 + relu1", "LayerType": "CaskConvolution", "TacticName": "sm90_xmma_fprop",
     "Metadata": "[ONNX Layer: /conv1/Conv]\x1e[ONNX Layer: /relu1/Relu]"},
    {"Name": "PWN(add2, relu2)", "LayerType": "PointWiseV2"},
    {"Name": "fc", "LayerType": "CaskGemm"},
], "Bindings": ["x", "y"]})
NETWORK = {"conv1": "", "relu1": "", "add2": "x2 = aten.add.Tensor(...) at layer1",
           "relu2": "r2 = aten.relu.default(...) at layer1", "fc": ""}
TIMES = {"Reformatting CopyNode for Input Tensor 0 to conv1 + relu1": (1.0, 10),
         "conv1 + relu1": (6.0, 10), "PWN(add2, relu2)": (2.0, 10), "fc": (1.0, 10)}


def _report() -> Any:
    return build_report(TIMES, engine="m.engine", batch=4, iterations=10,
                        inspector=parse_engine_information(INSPECTOR_JSON), network_layers=NETWORK,
                        wall_ms=1.2)


def test_report_sorts_by_time_and_maps_fused_layers_to_source_ops() -> None:
    report = _report()
    names = [x.name for x in report.layers]
    assert names[0] == "conv1 + relu1" and names[1] == "PWN(add2, relu2)"
    conv = report.layers[0]
    assert conv.sources == ["/conv1/Conv", "/relu1/Relu"]  # from the inspector's Metadata
    assert conv.fused == ["conv1", "relu1"] and conv.tactic == "sm90_xmma_fprop"
    assert conv.average_ms == pytest.approx(0.6) and conv.share == pytest.approx(0.6)
    pwn = report.layers[1]
    assert pwn.sources == ["x2 = aten.add.Tensor(...) at layer1", "r2 = aten.relu.default(...) at layer1"]
    assert next(x for x in report.layers if x.name == "fc").sources == ["fc"]
    reformat = next(x for x in report.layers if x.layer_type == "Reformat")
    assert reformat.sources == [] and reformat.fused == []
    assert report.total_ms == pytest.approx(1.0) and report.mapped == 3
    assert sum(x.share for x in report.layers) == pytest.approx(1.0)


def test_top_n_plus_others_and_json(tmp_path: Path) -> None:
    report = _report()
    head, others = report.top(2)
    assert [x.name for x in head] == ["conv1 + relu1", "PWN(add2, relu2)"]
    assert others is not None and others.total_ms == pytest.approx(2.0)
    assert others.share == pytest.approx(0.2) and "2 layers" in others.name
    assert report.top(10)[1] is None
    rows = format_rows(report, 2)
    assert len(rows) == 3 and rows[-1][1].startswith("others")
    out = report.write(tmp_path / "p.json")
    data = json.loads(out.read_text())
    assert data["total_ms"] == pytest.approx(1.0) and data["layer_count"] == 4
    assert data["layers"][0]["sources"] == ["/conv1/Conv", "/relu1/Relu"]


def test_names_only_plans_are_noted() -> None:
    info = parse_engine_information(json.dumps({"Layers": ["conv1 + relu1", "fc"]}))
    report = build_report({"conv1 + relu1": (1.0, 1)}, engine="e", batch=1, iterations=1,
                          inspector=info, network_layers=None)
    assert report.layers[0].sources == ["conv1", "relu1"]
    assert any("layer names only" in n for n in report.notes)
    assert parse_engine_information("not json") == {}


def test_unnamed_tensorrt_layers_match_the_real_snapshot(tiny: Any) -> None:
    from trtforge.verify.snapshot import engine_snapshot

    engine = trtforge.convert(tiny_model(), backend="tiny", target="sm89", cache=False)
    layers = network_layer_metadata(engine_snapshot(engine))
    assert layers is not None and len(layers) == 2
    conv, relu = list(layers)
    assert split_fused_name(f"{conv} + {relu}", layers) == [conv, relu]
    assert split_fused_name(f"{conv} + {relu} [profile 1]", layers) == [conv, relu]
    assert split_fused_name(f"{conv}x + {relu}", layers) == [relu]  # whole names only
    assert engine.metadata["build"]["settings"]["profiling_verbosity"] == "detailed"


def test_profile_engine_says_why_it_cannot_run_here(tiny: Any) -> None:
    engine = trtforge.convert(tiny_model(), backend="tiny", target="sm89", cache=False)
    with pytest.raises(RuntimeUnavailableError, match="cannot run the engine") as info:
        profile_engine(engine, batch=1, iterations=2)
    assert info.value.hint


def test_profile_cli_fails_with_one_line_and_a_hint(tiny: Any, tmp_path: Path) -> None:
    engine = trtforge.convert(tiny_model(), backend="tiny", target="sm89", cache=False)
    path = engine.save(tmp_path / "tiny.engine")
    out = tmp_path / "profile.json"
    result = subprocess.run([sys.executable, "-m", "trtforge", "profile", str(path), "--json",
                             "-o", str(out)], capture_output=True, text=True, env=dict(os.environ),
                            timeout=300)
    assert result.returncode != 0
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert lines[0].startswith("error: cannot run the engine"), result.stderr
    assert len(lines) == 2 and lines[1].startswith("hint: ")
    assert "Traceback" not in result.stderr and not out.exists()
    missing = subprocess.run([sys.executable, "-m", "trtforge", "profile", str(tmp_path / "nope.engine")],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode != 0 and "not found" in missing.stderr


def tiny_model() -> Any:
    from tiny_route import TinyModel

    return TinyModel()


def test_inspector_json_with_raw_control_characters() -> None:
    """TensorRT 8.6's inspector writes the ONNX parser's metadata separators (\\x1f) raw inside
    JSON strings (seen on the H200): the layers must still be read, with their types."""
    text = '{"Layers": [{"Name": "conv1 + relu1", "LayerType": "CaskConvolution", ' \
           '"Metadata": "[ONNX Layer: conv1]\x1f[ONNX Layer: relu1]"}]}'
    info = parse_engine_information(text)
    assert info["conv1 + relu1"]["LayerType"] == "CaskConvolution"
