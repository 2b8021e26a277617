"""The ONNX parser owns the weights it converts: it must outlive the build.

TensorRT's documentation: "the parser must not be deleted until after the builder has run".
(TensorRT 8.6's wrong weight read-back on the H200 was a different matter: it happens with the
parser alive; see test_onnx_trt_snapshot_readback.py.)
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import trtforge
from trtforge.tensorrt.trt import TensorRT


class _TrackedParser:
    """Delegates to TensorRT's parser and records when Python lets go of it."""

    def __init__(self, parser: Any, events: list[str]) -> None:
        self._parser = parser
        self._events = events

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)

    def __del__(self) -> None:
        self._events.append("parser freed")


def _gemm_onnx(path: Path) -> Path:
    rng = np.random.default_rng(0)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])
    w = numpy_helper.from_array(rng.standard_normal((8, 16)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "b")
    node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="fc", transB=1)
    model = helper.make_model(helper.make_graph([node], "g", [x], [y], [w, b]),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_parser_lives_until_the_engine_is_built(tmp_path: Path, monkeypatch: Any) -> None:
    events: list[str] = []
    create, build = TensorRT.create_onnx_parser, TensorRT.build

    def tracked_parser(self: TensorRT, network: Any) -> Any:
        return _TrackedParser(create(self, network), events)

    def recorded_build(self: TensorRT, *args: Any, **kwargs: Any) -> Any:
        events.append("build")
        return build(self, *args, **kwargs)

    monkeypatch.setattr(TensorRT, "create_onnx_parser", tracked_parser)
    monkeypatch.setattr(TensorRT, "build", recorded_build)
    engine = trtforge.convert(str(_gemm_onnx(tmp_path / "fc.onnx")), backend="onnx_trt", target="sm89",
                              cache=False)
    assert engine.metadata["route"] == "onnx_trt"
    assert "build" in events
    assert "parser freed" not in events[:events.index("build")], events
