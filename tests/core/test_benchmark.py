"""Benchmark statistics (hand-computed), the seed's log format, and native CPU baselines."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from trtforge.report.benchmark import BenchmarkResult, native_runners, summarize, time_host, time_native
from trtforge.errors import UsageError
from trtforge.models.sources import ModelSource

# Timings 0.1, 0.2, 0.4, 0.5 s at batch 2 -> per-step rates 20, 10, 5, 4 examples/s.
TIMINGS = [0.1, 0.2, 0.4, 0.5]
EXPECTED = {
    "steps": 4,
    "fps_median": 7.5,                       # (10 + 5) / 2
    "fps_mean": 9.75,                        # 39 / 4
    "fps_uncertainty": 3.660031876,          # sqrt(160.75 / 3) / sqrt(4) = 7.3200638 / 2
    "fps_jitter": 4.4478,                    # 1.4826 * median(12.5, 2.5, 2.5, 3.5) = 1.4826 * 3
    "fps_min": 4.0,
    "fps_max": 20.0,
    "latency_median": 0.3,                   # (0.2 + 0.4) / 2
    "latency_mean": 0.3,
    "latency_p99": 0.497,                    # 0.4 + 0.97 * (0.5 - 0.4), position 0.99 * 3
    "latency_p99_uncertainty": 0.1,          # |p99(0.1, 0.4) - p99(0.2, 0.5)| = |0.397 - 0.497|
    "latency_min": 0.1,
    "latency_max": 0.5,
}


def test_statistics_match_hand_computed_values() -> None:
    stats = summarize(TIMINGS, batch_size=2)
    assert stats["batch_size"] == 2
    for key, value in EXPECTED.items():
        assert stats[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def test_statistics_refuse_meaningless_input() -> None:
    with pytest.raises(UsageError, match="at least 2"):
        summarize([0.1], 1)
    with pytest.raises(UsageError, match="positive"):
        summarize([0.1, 0.0], 1)
    with pytest.raises(UsageError, match="batch size"):
        summarize(TIMINGS, 0)


def test_log_entry_has_the_seed_format_and_appends(tmp_path: Path) -> None:
    result = BenchmarkResult(name="trt_fp16_model.engine", device="gpu", batch_size=2, warmup=1,
                             timings=TIMINGS, timer="test")
    text = result.log_text()
    lines = text.strip("\n").splitlines()
    assert lines[0] == "=========================="
    assert lines[1] == "network: trt_fp16_model.engine [gpu],\t batchsize 2, steps 4"
    assert re.fullmatch(r"  fps \tmedian: 7\.5, \tmean: 9\.8, \tuncertainty: 3\.7, \tjitter: 4\.4",
                        lines[2]), lines[2]
    assert lines[3] == ("  latency \tmedian: 0.30000, \tmean: 0.30000, \t99th_p: 0.49700, "
                        "\t99th_uncertainty: 0.10000")
    assert "latency min: 0.10000" in lines[4] and "latency max: 0.50000" in lines[4]
    log = tmp_path / "logs" / "log.txt"
    result.append_to_log(log)
    result.append_to_log(log)
    assert log.read_text().count("network: trt_fp16_model.engine [gpu]") == 2
    assert [p.name for p in log.parent.iterdir()] == ["log.txt"]  # no temp files left behind
    data = result.to_dict()
    assert data["device"] == "gpu" and data["fps_median"] == pytest.approx(7.5)
    assert "batch_size" in data and data["timer"] == "test"


def test_host_timer_runs_warmup_then_iterations() -> None:
    calls: list[int] = []
    result = time_host(lambda: calls.append(1), name="noop", batch_size=4, iterations=5, warmup=2)
    assert len(calls) == 7
    assert result.stats["steps"] == 5 and result.device == "cpu"
    assert result.stats["latency_min"] <= result.stats["latency_median"] <= result.stats["latency_max"]
    with pytest.raises(UsageError):
        time_host(lambda: None, name="x", batch_size=1, iterations=1)


def test_onnxruntime_and_torch_baselines_are_labelled_cpu(tmp_path: Path) -> None:
    import onnx
    import torch
    from onnx import TensorProto, helper

    weight = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "mm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor("w", TensorProto.FLOAT, [4, 3], weight.ravel())])
    path = tmp_path / "mm.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), path)
    x = np.ones((2, 4), np.float32)

    runners, skipped = native_runners(ModelSource("onnx-file", path, "f", "mm.onnx", path))
    assert [r.framework for r in runners] == ["onnxruntime"] and not skipped
    np.testing.assert_allclose(runners[0].run([x])[0], x @ weight, rtol=1e-6)
    timed = time_native(runners[0], [x], name="ort_mm", iterations=3, warmup=1)
    assert timed.device == "cpu" and timed.batch_size == 2 and timed.stats["steps"] == 3

    linear = torch.nn.Linear(4, 3)
    runners, _ = native_runners(ModelSource("torch-module", linear, "f", "Linear"), torch_compile=False)
    assert [(r.framework, r.device) for r in runners] == [("pytorch eager", "cpu")]
    with torch.no_grad():
        expected = linear(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(runners[0].run([x])[0], expected, rtol=1e-6)
