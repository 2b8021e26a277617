"""compare(): one row per route x precision, failures recorded, report files written atomically."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import trtforge
from trtforge.report.comparison import numerics
from trtforge.errors import BackendNotFoundError
from trtforge.report.table import Report, Row, load
from tiny_route import TinyBackend, TinyModel, TinyPlugin

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def two_routes(plugin_registry: Callable[..., str]) -> tuple[TinyBackend, TinyBackend]:
    good, broken = TinyBackend("tiny_a", 1), TinyBackend("tiny_b", 2, always_fail=True)
    plugin_registry(TinyPlugin(good, broken), name="pair")
    return good, broken


def _reference(model: TinyModel) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    def run(x: np.ndarray) -> np.ndarray:
        out = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(model.weights), padding=1)
        return torch.relu(out).numpy()

    return run


def test_rows_statuses_and_forced_failure(two_routes: Any, trtforge_cache: Any) -> None:
    model = TinyModel()
    report = trtforge.compare(model, precisions=["fp32", "fp16"], target="sm89",
                              reference=_reference(model), baselines=False)
    assert [(r.route, r.precision, r.status) for r in report.rows] == [
        ("tiny_a", "fp32", "ok"), ("tiny_a", "fp16", "ok"),
        ("tiny_b", "fp32", "failed"), ("tiny_b", "fp16", "failed")]
    ok = report.row("TinyModel", "tiny_a", "fp32")
    assert ok.engine_bytes and ok.engine_bytes > 1000 and ok.layers == 2 and ok.target == "sm89"
    assert set(ok.stages) == {"populate", "build"} and ok.convert_seconds > 0
    assert ok.gpu is None and ok.gpu_note.startswith("n/a: no GPU to run the engine on")
    assert ok.numerics is not None and ok.numerics["cosine"] > 0.999
    assert ok.numerics["passed"] is True and ok.numerics["executor"] == "cpu reference executor"
    failed = report.row("TinyModel", "tiny_b", "fp16")
    assert failed.reason == "tiny_b refuses this model"
    assert failed.unsupported == ["tiny.Fail x1"]
    assert failed.engine_bytes is None
    assert two_routes[1].populated == 2  # both precisions were attempted
    assert report.environment["target"] == "sm89" and report.environment["can_run"] is False
    # A second comparison comes from the engine cache.
    again = trtforge.compare(model, backends="tiny_a", precisions="fp32", target="sm89",
                             baselines=False)
    assert again.rows[0].cache_hit and again.rows[0].stages == ok.stages


def test_accuracy_on_labelled_data(two_routes: Any, tmp_path: Path) -> None:
    model = TinyModel()
    reference = _reference(model)
    x = np.random.default_rng(3).standard_normal((6, 3, 8, 8)).astype(np.float32)
    y = reference(x).reshape(6, -1).argmax(axis=1)  # labels the source model gets right
    report = trtforge.compare(model, backends="tiny_a", precisions="fp32,int8", data=(x, y),
                              inputs=[x], reference=reference, target="sm89", cache=False,
                              baselines=False)
    for row in report.rows:
        assert row.status == "ok" and row.accuracy == 1.0 and row.accuracy_delta == 0.0
        assert row.numerics["top1"] is None or row.numerics["top1"] == 1.0
    assert "accuracy_chart" in report.write(tmp_path)


def test_named_routes_that_cannot_take_the_model_are_skipped_rows(
        plugin_registry: Callable[..., str]) -> None:
    class OnlyOnnx(TinyBackend):
        def accepts(self, source: Any) -> bool:
            return source.kind == "onnx-file"

    plugin_registry(TinyPlugin(TinyBackend("tiny_a", 1), OnlyOnnx("onnx_only", 2)), name="pair")
    report = trtforge.compare(TinyModel(), backends="tiny_a,onnx_only", precisions="fp32",
                              target="sm89", cache=False, baselines=False)
    skipped = report.row("TinyModel", "onnx_only", "fp32")
    assert skipped.status == "skipped" and "does not accept tiny-model" in skipped.reason
    with pytest.raises(BackendNotFoundError):
        trtforge.compare(TinyModel(), backends="nope", target="sm89", cache=False)


def test_report_files_are_written_atomically(two_routes: Any, tmp_path: Path) -> None:
    report = trtforge.compare(TinyModel(), precisions="fp32", target="sm89", cache=False,
                              baselines=False)
    out = tmp_path / "report"
    (out).mkdir()
    (out / "accuracy_change.png").write_bytes(b"stale")
    written = report.write(out)
    assert set(written) == {"json", "markdown", "stages_chart"}
    assert not (out / "accuracy_change.png").exists()  # no accuracy measured: no stale chart
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "report.md", "stage_times.png"]
    data = json.loads((out / "report.json").read_text())
    assert [r["status"] for r in data["rows"]] == ["ok", "failed"]
    assert load(out / "report.json").to_dict() == report.to_dict()
    markdown = (out / "report.md").read_text()
    assert "| TinyModel | tiny_b | fp32 | failed: tiny_b refuses this model [unsupported: tiny.Fail x1]" in markdown
    assert "need a GPU that can run the engines" in markdown
    assert (out / "stage_times.png").read_bytes().startswith(PNG_SIGNATURE)


def test_accuracy_chart_and_tables_from_rows(tmp_path: Path) -> None:
    rows = [Row("digits", "a", "fp32", "ok", accuracy=0.98, accuracy_delta=0.0, stages={"build": 1.0},
                convert_seconds=1.0, engine_bytes=2_000_000, layers=9,
                numerics={"max_abs": 1e-6, "max_rel": 1e-7, "cosine": 1.0, "top1": 1.0, "top5": 1.0}),
            Row("digits", "a", "int8", "ok", accuracy=0.95, accuracy_delta=-0.03, stages={"build": 2.0},
                convert_seconds=2.0, engine_bytes=600_000, layers=20, gpu_note="n/a: no GPU")]
    report = Report(rows=rows, environment={"gpu_unavailable": "no GPU"})
    written = report.write(tmp_path)
    assert written["accuracy_chart"].read_bytes().startswith(PNG_SIGNATURE)
    assert "95.00% (-3.00)" in report.to_markdown()
    assert "top-1 100.0%" in report.to_markdown()
    from rich.console import Console

    console = Console(record=True, width=200)
    report.print(console)
    text = console.export_text()
    assert "95.0% (-3.0)" in text and "need a GPU" in text


def test_agreement_metrics_by_hand() -> None:
    """compare's numbers come from the verdict check uses (comparison.agreement is gone)."""
    reference = [np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [6.0, 5.0, 4.0, 3.0, 2.0, 1.0]])]
    candidate = [np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.5], [6.0, 6.5, 4.0, 3.0, 2.0, 1.0]])]
    result = numerics(reference, candidate, "fp32")
    assert result["max_abs"] == pytest.approx(1.5)
    assert result["max_rel"] == pytest.approx(1.5 / 6.0)
    # dot = 182 + 6*0.5 + 5*1.5 = 192.5; |r|^2 = 182; |c|^2 = 182 + (42.25 - 36) + (42.25 - 25)
    dot = 182 + 3.0 + 7.5
    norm_c = 182 + (6.5 ** 2 - 36) + (6.5 ** 2 - 25)
    assert result["cosine"] == pytest.approx(dot / (182 ** 0.5 * norm_c ** 0.5))
    assert result["top1"] == 0.5  # the second row's argmax moved from class 0 to class 1
    assert result["top5"] == 1.0


def test_stage_times_add_up() -> None:
    from trtforge.report.comparison import split_stages

    stages = split_stages({"populate": 10.0, "export": 6.0, "parse": 1.5, "build": 2.0})
    assert stages == {"export": 6.0, "parse": 1.5, "populate (rest)": 2.5, "build": 2.0}
    assert split_stages({"populate": 0.5, "build": 1.0}) == {"populate": 0.5, "build": 1.0}


def test_cli_compare_unknown_backend(tmp_path: Path) -> None:
    (tmp_path / "m.onnx").write_bytes(b"x")
    result = subprocess.run([sys.executable, "-m", "trtforge", "compare", str(tmp_path / "m.onnx"),
                             "--backends", "nope", "--target", "sm89"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "unknown backend 'nope'" in result.stderr and "Traceback" not in result.stderr


def _installed(*names: str) -> list[str]:
    from trtforge.plugin.backends import registry

    available = {e.name for e in registry().entries() if e.backend.is_available()}
    return [n for n in names if n in available]


@pytest.mark.skipif(not _installed("onnx_trt", "torch2trt"), reason="no real route plugin installed")
def test_real_routes_on_a_small_torch_model() -> None:
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 10)).eval()
    spec = trtforge.InputSpec(None, min=(1, 1, 8, 8), opt=(4, 1, 8, 8), max=(8, 1, 8, 8))
    routes = _installed("onnx_trt", "torch2trt")
    report = trtforge.compare(model, backends=routes, precisions="fp32,fp16", inputs=[spec],
                              target="sm89", cache=False, baselines=True, baseline_iterations=3)
    assert sorted({r.route for r in report.rows}) == sorted(routes)
    for row in report.rows:
        assert row.status == "ok", row.reason
        assert row.engine_bytes > 0 and row.layers and row.stages.get("build", 0) > 0
        assert row.numerics is not None and row.numerics["passed"], row.numerics
    assert report.baselines[0].framework == "pytorch eager" and report.baselines[0].stats


@pytest.mark.skipif(not _installed("onnx_trt"), reason="the onnx_trt route is not installed")
def test_cli_compare_an_onnx_file_with_labelled_data(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(0)
    weight = rng.standard_normal((6, 4)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor("w", TensorProto.FLOAT, [6, 4], weight.ravel())])
    model = tmp_path / "linear.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), model)
    x = rng.standard_normal((32, 6)).astype(np.float32)
    np.savez(tmp_path / "data.npz", x=x, y=(x @ weight).argmax(axis=1))
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "trtforge", "compare", str(model), "--backends", "onnx_trt",
         "--precisions", "fp32,fp16", "--input", "x:1x6,8x6,32x6", "--data", str(tmp_path / "data.npz"),
         "--target", "sm89", "--out", str(out), "--no-cache"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "onnx_trt" in result.stdout and "onnxruntime" in result.stdout
    report = load(out / "report.json")
    assert [(r.route, r.precision, r.status) for r in report.rows] == [
        ("onnx_trt", "fp32", "ok"), ("onnx_trt", "fp16", "ok")]
    assert report.baselines[0].framework == "onnxruntime" and report.baselines[0].accuracy == 1.0
    fp32 = report.rows[0]
    assert fp32.accuracy == 1.0 and fp32.accuracy_delta == 0.0 and fp32.numerics["passed"]
    assert (out / "accuracy_change.png").read_bytes().startswith(PNG_SIGNATURE)


def test_default_target_is_left_to_the_adapter() -> None:
    """compare/demo used to default to sm89, which full TensorRT refuses on any other GPU."""
    import inspect

    from trtforge.report.comparison import default_target
    from trtforge_zoo.demo import run_demo
    from trtforge.tensorrt.gpu import GpuInfo, GpuProbe
    from trtforge.tensorrt.trt import TrtFacts

    assert inspect.signature(trtforge.compare).parameters["target"].default is None
    assert inspect.signature(run_demo).parameters["target"].default is None
    h200 = GpuProbe((GpuInfo(0, "NVIDIA H200", 9, 0),))
    none = GpuProbe((), "no NVIDIA driver")
    full, rtx = TrtFacts.of("tensorrt", "10.3.0"), TrtFacts.of("tensorrt_rtx", "1.0.0")
    assert default_target(None, facts=full, gpus=h200) is None      # builds for the H200
    assert default_target(None, facts=TrtFacts.of("tensorrt", "8.6.1"), gpus=h200) is None
    assert default_target(None, facts=full, gpus=none) is None      # the adapter explains
    assert default_target(None, facts=rtx, gpus=h200) is None       # RTX: the GPU here
    assert default_target(None, facts=rtx, gpus=none) == "sm89"     # RTX needs one named
    assert default_target("sm86", facts=full, gpus=h200) == "sm86"  # given: kept


def test_compare_without_target_asks_the_adapter(two_routes: Any) -> None:
    from trtforge.tensorrt.gpu import probe_gpus
    from trtforge.tensorrt.trt import get_tensorrt

    if not get_tensorrt().facts.ahead_of_time_targets or probe_gpus().found:
        pytest.skip("the adapter picks this machine's GPU here")
    with pytest.raises(trtforge.errors.UsageError, match="no GPU here"):
        trtforge.compare(TinyModel(), backends="tiny_a", precisions="fp32", cache=False,
                         baselines=False)
