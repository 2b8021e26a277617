"""``trtforge optimize``: the budget, the ranking (measured or the stated proxy), and what it
writes: on the digits model through the real routes, a Triton repository that parses with
Triton's schema; the decision rules on hand-made report rows."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest

import trtforge
from trtforge.conversion.engine import Engine
from trtforge.errors import ExportError, NoCandidateError, UsageError
from trtforge.report.optimization import optimize, rank
from trtforge.report.table import Report, Row
from tiny_route import TinyBackend, TinyModel, TinyPlugin
from triton_schema import data_type_name, parse_config

ROUTES = ("onnx_trt", "torch2trt")


def _installed(*names: str) -> bool:
    from trtforge.plugin.backends import registry

    available = {e.name for e in registry().entries() if e.backend.is_available()}
    return all(n in available for n in names)


# --- the decision rules -------------------------------------------------------------------
def _row(route: str, precision: str, *, size: int = 1000, passed: bool | None = True,
         delta: float | None = 0.0, fps: float | None = None, p99: float | None = None,
         status: str = "ok", reason: str | None = None) -> Row:
    row = Row("m", route, precision, status, reason=reason, engine_bytes=size if status == "ok" else None)
    if status == "ok":
        if passed is None:
            row.numerics_note = "n/a: the source model could not run (boom)"
        else:
            row.numerics = {"passed": passed, "reasons": [] if passed else ["max rel 0.9 > 0.05"]}
        row.accuracy_delta = delta
        if delta is None:
            row.accuracy_note = "n/a: no labels"
        if fps is not None:
            row.gpu = {"fps_median": fps, "latency_p99": p99}
        else:
            row.gpu_note = "n/a: no GPU here"
    return row


def _report(*rows: Row, gpu_note: str | None = "no GPU here") -> Report:
    return Report(rows=list(rows), environment={"gpu_unavailable": gpu_note, "gpu": "H200 (sm90)"})


def test_budget_discards_with_reasons() -> None:
    report = _report(
        _row("a", "fp32"), _row("a", "fp16", passed=False), _row("a", "int8", delta=-0.012),
        _row("b", "fp32", status="failed", reason="b refuses"), _row("b", "fp16", status="skipped",
                                                                    reason="unavailable: x"),
        _row("b", "int8", passed=None), _row("c", "int8", delta=None), _row("c", "fp16", delta=-0.004))
    candidates, _, _ = rank(report, labelled=True, max_drop=0.5)
    why = {(c.route, c.precision): (c.status, c.reason) for c in candidates}
    assert why[("a", "fp16")] == ("discarded", "failed the check at fp16 tolerance: max rel 0.9 > 0.05")
    assert why[("a", "int8")] == ("discarded", "over budget: loses 1.20 top-1 points (budget 0.5)")
    assert why[("b", "fp32")] == ("discarded", "conversion failed: b refuses")
    assert why[("b", "fp16")] == ("discarded", "skipped: unavailable: x")
    assert why[("b", "int8")] == ("discarded", "not checked (the source model could not run (boom))")
    assert why[("c", "int8")] == ("discarded", "accuracy not measured (no labels)")
    # 0.4 points lost is within 0.5: fp16 beats fp32 by the proxy.
    assert [(c.route, c.precision, c.status) for c in candidates[:2]] == [
        ("c", "fp16", "chosen"), ("a", "fp32", "lost")]
    # Without labelled data the accuracy columns do not matter (two int8 tie on the proxy:
    # route name order); a bigger budget admits a/int8.
    candidates, _, _ = rank(report, labelled=False)
    assert [(c.route, c.precision) for c in candidates[:2]] == [("a", "int8"), ("c", "int8")]
    assert candidates[1].reason.startswith("tie on the proxy")
    best = rank(report, labelled=True, max_drop=1.5)[0][0]
    assert (best.route, best.precision, best.accuracy_delta) == ("a", "int8", -1.2)


def test_proxy_ranking_is_stated_and_ordered() -> None:
    report = _report(_row("a", "fp32", size=100), _row("a", "fp16", size=300),
                     _row("b", "int8", size=900), _row("a", "int8", size=800), _row("b", "fp16", size=300))
    candidates, ranking, proxy = rank(report)
    assert proxy and ranking.startswith("proxy, not measured speed (no GPU here): lower precision first")
    assert [(c.route, c.precision) for c in candidates] == [
        ("a", "int8"), ("b", "int8"), ("a", "fp16"), ("b", "fp16"), ("a", "fp32")]
    reasons = [c.reason for c in candidates]
    assert reasons[0] == "best passing candidate by the proxy"
    assert reasons[1] == "proxy: bigger engine (900 vs 800 bytes)"
    assert reasons[2] == "proxy: higher precision than the chosen int8"
    assert [c.rank for c in candidates] == [1, 2, 3, 4, 5]


def test_measured_ranking_by_throughput_or_p99_latency() -> None:
    report = _report(_row("a", "fp32", fps=900.0, p99=0.0010), _row("a", "int8", fps=2000.0, p99=0.0030),
                     _row("b", "fp16", fps=1500.0, p99=0.0008), _row("b", "int8"), gpu_note=None)
    candidates, ranking, proxy = rank(report, objective="throughput", batch=8)
    assert not proxy and ranking.startswith("measured GPU median throughput at batch 8 on H200 (sm90)")
    assert [(c.route, c.precision) for c in candidates] == [
        ("a", "int8"), ("b", "fp16"), ("a", "fp32"), ("b", "int8")]
    assert candidates[1].reason == "slower: 1500/s vs 2000/s at the chosen engine"
    assert candidates[3].reason == "not timed on the GPU (no GPU here)"  # the int8 nobody timed
    candidates, ranking, _ = rank(report, objective="latency")
    assert "p99 latency" in ranking
    assert [(c.route, c.precision) for c in candidates[:3]] == [("b", "fp16"), ("a", "fp32"), ("a", "int8")]
    assert candidates[1].reason == "higher p99 latency: 1.000 ms vs 0.800 ms"


# --- the real thing: the digits model through the installed routes --------------------------
@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The trained digits CNN, its compare arguments, and one engine cache for the module."""
    from trtforge_zoo import models as zoo
    from trtforge_zoo.demo import compare_arguments

    cache = tmp_path_factory.mktemp("engine-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRTFORGE_CACHE_DIR", str(cache))
        model = zoo.digits_classifier()
        yield {"zoo": model, "arguments": compare_arguments(model), "cache": cache}


def _parsed(folder: Path) -> Any:
    return parse_config((folder / "config.pbtxt").read_text(encoding="utf-8"))


@pytest.mark.skipif(not _installed(*ROUTES), reason="the onnx_trt and torch2trt routes are not installed")
def test_optimize_digits_picks_by_proxy_and_writes_a_triton_repository(digits: dict[str, Any],
                                                                       tmp_path: Path) -> None:
    from trtforge.tensorrt.gpu import probe_gpus

    out = tmp_path / "repo"
    result = optimize(digits["zoo"].model, backends=list(ROUTES), precisions="fp32,fp16,int8",
                      target="sm89", out=out, format="triton",
                      triton={"name": "digits", "instances": 2, "dynamic_batching": True},
                      **digits["arguments"])
    rows = result.report.rows
    assert len(rows) == 6 and all(r.status == "ok" for r in rows), [r.reason for r in rows]
    winner = result.winner
    assert winner is not None and result.engine is not None
    if not probe_gpus().found:
        assert result.proxy and "proxy, not measured speed" in result.ranking
        passing = [r for r in rows if r.numerics and r.numerics["passed"]
                   and -r.accuracy_delta * 100 <= 0.5]
        best = min(passing, key=lambda r: ({"int8": 0, "fp16": 1, "fp32": 2}[r.precision], r.engine_bytes))
        assert (winner.route, winner.precision) == (best.route, best.precision)
    assert {c.status for c in result.candidates} <= {"chosen", "lost", "discarded"}
    assert all(c.reason for c in result.candidates) and len(result.candidates) == 6
    # The repository: plan = the winner's engine, config parses with Triton's schema and
    # matches its bindings; the report and the decision beside it, at the repository root.
    model_dir = out / "digits"
    assert (model_dir / "1" / "model.plan").read_bytes() == result.engine.plan
    config = _parsed(model_dir)
    engine = result.engine
    assert config.name == "digits" and config.platform == "tensorrt_plan"
    assert config.max_batch_size == 64  # the demo's digits profile: batch 1..64
    assert [t.name for t in config.input] == [t["name"] for t in engine.inputs]
    assert [t.name for t in config.output] == [t["name"] for t in engine.outputs]
    assert [list(t.dims) for t in config.input] == [t["shape"][1:] for t in engine.inputs]
    assert [list(t.dims) for t in config.output] == [t["shape"][1:] for t in engine.outputs]
    assert data_type_name(config.input[0].data_type) == "TYPE_FP32"
    assert config.instance_group[0].count == 2 and config.HasField("dynamic_batching")
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["digits"]  # Triton loads every folder
    decision = json.loads((out / "optimize.json").read_text())
    assert decision["winner"]["route"] == winner.route and decision["proxy"] == result.proxy
    markdown = (out / "optimize.md").read_text()
    assert f"chosen: **{winner.route} {winner.precision}**" in markdown
    assert markdown.count("| lost |") + markdown.count("| discarded |") == 5
    assert len(json.loads((out / "report.json").read_text())["rows"]) == 6
    script = (out / "reproduce.sh").read_text()
    assert 'MODEL="${MODEL:?' in script
    assert 'trtforge optimize "${MODEL}" --backends onnx_trt,torch2trt' in script
    assert "--format triton --target sm89 --input input:float32:1x1x8x8,1x1x8x8,64x1x8x8" in script
    assert (model_dir / "reproduce.sh").read_text().splitlines()[-1] == script.splitlines()[-1]
    # Again, as a trtforge engine (from the engine cache): plan + sidecar + snapshot.
    again = optimize(digits["zoo"].model, backends=list(ROUTES), precisions="fp32,fp16,int8",
                     target="sm89", out=tmp_path / "plain", **digits["arguments"])
    assert (again.winner.route, again.winner.precision) == (winner.route, winner.precision)
    assert all(r.cache_hit for r in again.report.rows)
    saved = Engine.load(again.written["engine"])
    assert saved.plan == result.engine.plan
    assert (tmp_path / "plain" / "digits.engine.snapshot.json").is_file()


@pytest.mark.skipif(not _installed("onnx_trt"), reason="the onnx_trt route is not installed")
def test_cli_optimize_digits_writes_triton(digits: dict[str, Any], tmp_path: Path) -> None:
    import torch

    model_file = tmp_path / "digits.pt"
    torch.save(digits["zoo"].model, model_file)
    (tmp_path / "model.py").write_text(
        "import torch\n"
        f"model = torch.load({str(model_file)!r}, weights_only=False).eval()\n")
    split = digits["zoo"].extra["digits"]
    np.savez(tmp_path / "data.npz", x=split.x_test, y=split.y_test)
    out = tmp_path / "out"
    command = ["optimize", str(tmp_path / "model.py"), "--backends", "onnx_trt",
               "--precisions", "fp32,int8", "--data", str(tmp_path / "data.npz"),
               "--input", "x:1x1x8x8,4x1x8x8,16x1x8x8", "--target", "sm89", "--out", str(out),
               "--format", "triton", "--name", "digits", "--dynamic-batching"]
    env = {**os.environ, "TRTFORGE_CACHE_DIR": str(digits["cache"])}
    done = subprocess.run([sys.executable, "-m", "trtforge", *command], capture_output=True,
                          text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert "ranking: " in done.stdout and "chose onnx_trt" in done.stdout
    config = _parsed(out / "digits")
    assert config.max_batch_size == 16 and list(config.input[0].dims) == [1, 8, 8]
    assert list(config.dynamic_batching.preferred_batch_size) == [4]
    decision = json.loads((out / "optimize.json").read_text())
    assert decision["labelled_data"] and len(decision["candidates"]) == 2
    # reproduce.sh holds this very command, paths made absolute.
    last = (out / "reproduce.sh").read_text().splitlines()[-1]
    assert last.startswith(f"trtforge optimize {tmp_path / 'model.py'} --backends onnx_trt "
                           "--precisions fp32,int8 --max-drop 0.5 --objective throughput --batch 1 "
                           f"--data {tmp_path / 'data.npz'} --target sm89 --input x:1x1x8x8,4x1x8x8,16x1x8x8")
    assert last.endswith(f"--out {out} --format triton --name digits --dynamic-batching")


# --- refusals, fast, with the tiny real route -------------------------------------------------
@pytest.fixture
def tiny_route(plugin_registry: Callable[..., str]) -> TinyBackend:
    backend = TinyBackend("tiny_opt", 5)
    plugin_registry(TinyPlugin(backend), name="tiny-opt")
    return backend


def test_no_candidate_raises_after_writing_the_reasons(tiny_route: TinyBackend, tmp_path: Path,
                                                       trtforge_cache: Any) -> None:
    def wrong(x: np.ndarray) -> np.ndarray:  # a "source" the engine cannot agree with
        return np.full((x.shape[0], 4, 8, 8), 7.0, np.float32)

    with pytest.raises(NoCandidateError, match="no engine of TinyModel") as err:
        optimize(TinyModel(), precisions="fp32,fp16", target="sm89", reference=wrong,
                 out=tmp_path / "out")
    result = err.value.result
    assert [c.status for c in result.candidates] == ["discarded", "discarded"]
    assert all(c.reason.startswith("failed the check at fp") for c in result.candidates)
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "optimize.md" in written and "reproduce.sh" in written
    assert not [n for n in written if n.endswith(".engine")]


@pytest.mark.parametrize("kwargs, match", [
    ({"objective": "fast"}, "unknown objective 'fast'"),
    ({"format": "zip"}, "unknown output format 'zip'"),
    ({"max_drop": -1}, "--max-drop -1 must be"),
    ({"max_drop": float("nan")}, "--max-drop nan must be"),
    ({"batch": 0}, "--batch 0 must be 1 or more"),
    ({"format": "triton", "triton": {"name": "a/b"}}, "cannot be a Triton model name"),
    ({"format": "triton", "triton": {"instances": 0}}, "--instances 0"),
    ({"triton": {"colour": 1}}, "unknown Triton option"),
])
def test_bad_arguments_are_refused_before_converting(tiny_route: TinyBackend, kwargs: dict[str, Any],
                                                     match: str) -> None:
    with pytest.raises(UsageError, match=match):
        optimize(TinyModel(), precisions="fp32", target="sm89", **kwargs)
    assert tiny_route.populated == 0


def _tiny_reference(model: TinyModel) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    def run(x: np.ndarray) -> np.ndarray:
        out = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(model.weights), padding=1)
        return torch.relu(out).numpy()

    return run


def test_triton_refusal_writes_nothing(tiny_route: TinyBackend, tmp_path: Path, trtforge_cache: Any) -> None:
    spec = trtforge.InputSpec("x", min=(4, 3, 8, 8), opt=(8, 3, 8, 8), max=(16, 3, 8, 8))
    model = TinyModel()
    with pytest.raises(ExportError, match="no optimization profile takes a batch of 1"):
        optimize(model, precisions="fp32", target="sm89", inputs=[spec], reference=_tiny_reference(model),
                 out=tmp_path / "out", format="triton")
    assert not (tmp_path / "out").exists()
    result = optimize(model, precisions="fp32", target="sm89", inputs=[spec],
                      reference=_tiny_reference(model), out=tmp_path / "out", format="triton",
                      triton={"max_batch": 0})
    config = _parsed(result.written["triton_model"])
    assert config.max_batch_size == 0 and list(config.input[0].dims) == [-1, 3, 8, 8]


def test_public_name_and_cli_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from trtforge.cli import main

    assert trtforge.optimize is optimize  # the module is trtforge.report.optimization: no shadowing
    for argv, fragment in ((["--max-drop", "-1"], "error: --max-drop -1.0 must be"),
                           (["--format", "triton", "--name", "a/b"], "error: --name 'a/b' cannot be"),
                           (["--objective", "fast"], "error: trtforge optimize: argument --objective")):
        assert main(["optimize", "no-such-model.onnx", *argv]) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 2 and err[0].startswith(fragment) and err[1].startswith("hint: "), err


def test_optimize_replaces_only_a_model_folder_trtforge_wrote(tiny_route: TinyBackend, tmp_path: Path,
                                                              trtforge_cache: Any) -> None:
    model = TinyModel()
    kwargs = {"precisions": "fp32", "target": "sm89", "reference": _tiny_reference(model),
              "out": tmp_path / "out", "format": "triton", "triton": {"name": "tiny"}}
    first = optimize(model, **kwargs)
    (first.written["triton_model"] / "2").mkdir()
    optimize(model, **kwargs)  # an earlier run's folder: swapped whole
    assert not (first.written["triton_model"] / "2").exists()
    (tmp_path / "out" / "tiny" / "config.pbtxt").write_text('name: "tiny"\n')  # hand-written
    with pytest.raises(UsageError, match="already exists"):
        optimize(model, **kwargs)
    assert optimize(model, force=True, **kwargs).winner is not None
