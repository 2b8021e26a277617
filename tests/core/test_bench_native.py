"""`trtforge bench MODEL --native`: the model timed in its own framework (seed 002's --native),
in the same log.txt format as the engines' entries."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from trtforge.report.benchmark import bench_native
from trtforge.errors import UsageError


def _onnx(path: Path, dims: list[object]) -> Path:
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 4], np.eye(4, dtype=np.float32).ravel())
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [dims[0], 4])],
                              [weight])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_native_onnx_run_is_timed_and_logged(tmp_path: Path) -> None:
    model = _onnx(tmp_path / "mm.onnx", ["N", 4])
    log = tmp_path / "log.txt"
    (result,) = bench_native(model, batch_size=8, iterations=5, warmup=1, log=log)
    assert result["name"] == "native_mm.onnx" and result["device"] == "cpu"
    assert result["batch_size"] == 8 and result["steps"] == 5 and result["fps_median"] > 0
    assert result["details"]["framework"] == "onnxruntime"
    text = log.read_text()
    assert "network: native_mm.onnx [cpu],\t batchsize 8, steps 5" in text and "99th_p" in text
    bench_native(model, batch_size=1, iterations=3, warmup=0, log=log)
    assert log.read_text().count("network: native_mm.onnx") == 2  # appended, not replaced


def test_a_dim_the_model_leaves_open_needs_an_input_spec(tmp_path: Path) -> None:
    model = _onnx(tmp_path / "open.onnx", ["N", "K"])
    with pytest.raises(UsageError, match="only the batch may be left open") as info:
        bench_native(model, iterations=3)
    assert "--input x:float32:" in (info.value.hint or "")
    (result,) = bench_native(model, inputs=["x:float32:2x4"], batch_size=3, iterations=3, warmup=0)
    assert result["batch_size"] == 3


def test_cli_native_frozen_graph_and_engine_only_options(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    from trtforge_zoo import models as zoo

    seed = zoo.SEED_MODELS["model1"](directory=tmp_path)
    log = tmp_path / "log.txt"
    result = subprocess.run([sys.executable, "-m", "trtforge", "bench", str(seed.path), "--native",
                             "--iterations", "3", "--warmup", "1", "--batch-size", "2", "--log", str(log),
                             "--json"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(result.stdout)
    assert entry["details"]["framework"].startswith("tensorflow") and entry["batch_size"] == 2
    assert f"network: native_{seed.path.name} [" in log.read_text()
    refused = subprocess.run([sys.executable, "-m", "trtforge", "bench", str(seed.path), "--input",
                              "x:float32:1x3x8x8"], capture_output=True, text=True, timeout=300)
    assert refused.returncode != 0 and "--input is for --native runs" in refused.stderr
