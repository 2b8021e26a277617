"""GPU runtime: every reason an engine cannot run here, profile selection, and (on a GPU) runs."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import trtforge
from trtforge.errors import RuntimeUnavailableError, UsageError
from trtforge.tensorrt.gpu import GpuInfo, GpuProbe
from trtforge.tensorrt.runtime import RuntimeFacts, runtime_blocker, select_profile
from tiny_route import TinyModel

NO_GPU = GpuProbe((), "no NVIDIA driver on this machine (libcuda.so.1 not found)")
H200 = GpuProbe((GpuInfo(0, "NVIDIA H200", 9, 0),))
L4 = GpuProbe((GpuInfo(0, "NVIDIA L4", 8, 9),))
RTX3090 = GpuProbe((GpuInfo(0, "NVIDIA GeForce RTX 3090", 8, 6),))
TORCH_OK = (True, "torch with CUDA")
no_gpu_here = pytest.mark.skipif(RuntimeFacts.probe().gpus.found,
                                 reason="this machine has a GPU; the no-GPU error paths do not apply")


def _metadata(tensorrt: Any, target: str = "sm89") -> dict[str, Any]:
    return {"tensorrt": {"flavor": tensorrt.flavor, "version": tensorrt.version}, "target": target}


def _reason(metadata: dict[str, Any], facts: RuntimeFacts) -> str:
    blocker = runtime_blocker(metadata, facts)
    assert blocker is not None
    reason, hint = blocker
    assert hint
    return reason


def test_every_reason_an_engine_cannot_run(tensorrt: Any) -> None:
    meta = _metadata(tensorrt)
    assert "no GPU to run the engine on" in _reason(meta, RuntimeFacts.probe(NO_GPU))
    assert "libcuda" in _reason(meta, RuntimeFacts.probe(NO_GPU))
    h200 = _reason(meta, RuntimeFacts.probe(H200))
    assert "cannot run engines on this GPU" in h200 and "9.0" in h200 and "H200" in h200
    l4 = dataclasses.replace(RuntimeFacts.probe(L4), torch_cuda=TORCH_OK)
    assert runtime_blocker(meta, l4) is None
    other_gpu = dataclasses.replace(RuntimeFacts.probe(RTX3090), torch_cuda=TORCH_OK)
    assert "built for sm89, this GPU is NVIDIA GeForce RTX 3090 (sm86)" in _reason(meta, other_gpu)
    old = {"tensorrt": {"flavor": "tensorrt_rtx", "version": "1.0.0"}, "target": "sm89"}
    assert "built by tensorrt_rtx 1.0.0" in _reason(old, l4)
    build_only = dataclasses.replace(l4, has_runtime=False)
    assert "build-only flavor" in _reason(meta, build_only)
    missing = RuntimeFacts(gpus=L4, load_error="TensorRT is not installed")
    assert "TensorRT cannot be loaded" in _reason(meta, missing)
    no_torch = dataclasses.replace(l4, torch_cuda=(False, "torch is not installed"))
    assert "PyTorch with CUDA" in _reason(meta, no_torch)


@no_gpu_here
def test_this_machine_cannot_run_and_says_why(tiny: Any) -> None:
    engine = trtforge.convert(TinyModel(), backend="tiny", target="sm89", cache=False)
    x = np.zeros((1, 3, 8, 8), np.float32)
    for call in (lambda: engine(x), lambda: engine.run([x]),
                 lambda: engine.benchmark(batch_size=1, iterations=5, warmup=1)):
        with pytest.raises(RuntimeUnavailableError) as info:
            call()
        assert "cannot run the engine: no GPU" in info.value.message
        assert info.value.hint and "sm89" in info.value.hint


@no_gpu_here
def test_bench_command_fails_in_one_line(tiny: Any, tmp_path: Path) -> None:
    engine = trtforge.convert(TinyModel(), backend="tiny", target="sm89", cache=False)
    path = engine.save(tmp_path / "tiny.engine")
    result = subprocess.run([sys.executable, "-m", "trtforge", "bench", str(path), "--log",
                             str(tmp_path / "log.txt")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: cannot run the engine: no GPU to run the engine on: ")
    assert "hint:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "log.txt").exists()


def test_profile_selection_picks_the_first_profile_that_fits() -> None:
    declared = {"x": (-1, 3, 8, 8)}
    profiles = [{"x": ((1, 3, 8, 8), (2, 3, 8, 8), (4, 3, 8, 8))},
                {"x": ((8, 3, 8, 8), (8, 3, 8, 8), (16, 3, 8, 8))}]
    assert select_profile({"x": (3, 3, 8, 8)}, declared, profiles) == 0
    assert select_profile({"x": (12, 3, 8, 8)}, declared, profiles) == 1
    with pytest.raises(UsageError) as info:
        select_profile({"x": (6, 3, 8, 8)}, declared, profiles)
    assert "profile 0: x (1, 3, 8, 8)..(4, 3, 8, 8)" in info.value.message
    with pytest.raises(UsageError, match="the engine declares"):
        select_profile({"x": (2, 3, 9, 8)}, declared, profiles)
    assert select_profile({"x": (1, 3, 8, 8)}, {"x": (1, 3, 8, 8)}, [{}]) == 0


# --- on a GPU (skipped with the reason elsewhere) ------------------------------------------
def _conv_relu(model: TinyModel, x: np.ndarray) -> np.ndarray:
    import torch

    weight = torch.from_numpy(model.weights)
    return torch.relu(torch.nn.functional.conv2d(torch.from_numpy(x), weight, padding=1)).numpy()


@pytest.mark.gpu
def test_runs_numpy_and_torch_inputs_with_dynamic_batch(tiny: Any) -> None:
    import torch

    model = TinyModel()
    spec = trtforge.InputSpec("x", min=(1, 3, 8, 8), opt=(2, 3, 8, 8), max=(4, 3, 8, 8))
    engine = trtforge.convert(model, backend="tiny", inputs=[spec], cache=False)
    for batch in (1, 4, 2):
        x = np.random.default_rng(batch).standard_normal((batch, 3, 8, 8)).astype(np.float32)
        out = engine(x)
        assert isinstance(out, np.ndarray) and out.shape == (batch, 4, 8, 8)
        np.testing.assert_allclose(out, _conv_relu(model, x), rtol=1e-3, atol=1e-3)
        on_gpu = engine.run({"x": torch.from_numpy(x).cuda()})["y"]
        assert on_gpu.is_cuda
        np.testing.assert_allclose(on_gpu.cpu().numpy(), out, rtol=1e-5, atol=1e-5)
    with pytest.raises(UsageError, match="no optimization profile"):
        engine(np.zeros((5, 3, 8, 8), np.float32))


@pytest.mark.gpu
def test_cuda_graph_and_benchmark(tiny: Any, tmp_path: Path) -> None:
    model = TinyModel()
    engine = trtforge.convert(model, backend="tiny", cache=False)
    x = np.random.default_rng(0).standard_normal((1, 3, 8, 8)).astype(np.float32)
    first = engine.run([x], cuda_graph=True)["y"]
    again = engine.run([x], cuda_graph=True)["y"]
    np.testing.assert_allclose(first, _conv_relu(model, x), rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(first, again)
    log = tmp_path / "log.txt"
    stats = engine.benchmark(batch_size=1, iterations=20, warmup=2, log=log)
    assert stats["device"] == "gpu" and stats["timer"] == "cuda events" and stats["steps"] == 20
    assert 0 < stats["latency_min"] <= stats["latency_median"] <= stats["latency_max"]
    assert "batchsize 1, steps 20" in log.read_text()
