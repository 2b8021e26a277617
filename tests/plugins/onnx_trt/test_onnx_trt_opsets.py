"""The route fits models to the opsets the installed ONNX parser reads (TensorRT 8.6: <= 17).

TensorRT 8.6 runs only on a GPU, so its one relevant fact (the parser's highest opset) is
switched on the installed TensorRT-RTX; the conversion is otherwise real and checked.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

import trtforge
from trtforge.verify.checking import check
from trtforge.errors import ConversionError
from trtforge.tensorrt.trt import TrtFacts

from .conftest import run_onnx


@pytest.fixture
def parser_17(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(TrtFacts, "max_onnx_opset", property(lambda self: 17))
    from trtforge_onnx_trt import exporters

    exporters._RECENT.clear()  # exports made for another parser must not be reused
    yield
    exporters._RECENT.clear()


def _reduce_mean_18(path: Path) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 1, 1])
    axes = helper.make_tensor("axes", TensorProto.INT64, [2], [2, 3])
    graph = helper.make_graph([helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=1)],
                              "reduce18", [x], [y], [axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_onnx_file_newer_than_parser_is_down_converted(parser_17: None, tmp_path: Path) -> None:
    path = _reduce_mean_18(tmp_path / "r18.onnx")
    engine = trtforge.convert(str(path), backend="onnx_trt", target="sm89", cache=False)
    assert any("opset 18 -> 17" in note for note in engine.metadata["notes"]), engine.metadata["notes"]
    assert engine.metadata["outputs"][0]["shape"] == [2, 3, 1, 1]  # not "reduce every axis"
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    report = check(str(path), engine, inputs=[x])
    assert report.passed, report.outputs
    (expected,) = run_onnx(onnx.load(path), {"x": x})
    assert np.allclose(expected, x.mean(axis=(2, 3), keepdims=True), atol=1e-6)


def test_op_without_older_version_is_refused_with_the_reason(parser_17: None, tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Col2Im", ["x", "size", "block"], ["y"])], "col2im",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 9])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])],
        [helper.make_tensor("size", TensorProto.INT64, [2], [4, 4]),
         helper.make_tensor("block", TensorProto.INT64, [2], [2, 2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    path = tmp_path / "col2im.onnx"
    onnx.save(model, path)
    with pytest.raises(ConversionError, match=r"opset 18.*reads opsets up to 17.*Col2Im") as info:
        trtforge.convert(str(path), backend="onnx_trt", target="sm89", cache=False)
    assert "opset_version=17" in (info.value.hint or "")


def test_torch_module_is_exported_at_the_parser_opset(parser_17: None) -> None:
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1),
                                 torch.nn.Flatten(), torch.nn.Linear(4, 2)).eval()
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    engine = trtforge.convert(module, backend="onnx_trt", inputs=[x], target="sm89", cache=False)
    assert any("TorchScript ONNX exporter, opset 17" in n and "reads opsets up to 17" in n
               for n in engine.metadata["notes"]), engine.metadata["notes"]
    report = check(module, engine, inputs=[x.numpy()])
    assert report.passed, report.outputs


def test_parser_facts() -> None:
    assert TrtFacts.of("tensorrt", "8.6.0").max_onnx_opset == 17
    assert TrtFacts.of("tensorrt", "9.3.0").max_onnx_opset == 19
    assert TrtFacts.of("tensorrt", "10.3.0").max_onnx_opset >= 18
    assert TrtFacts.of("tensorrt_rtx", "1.7.1").max_onnx_opset >= 18
