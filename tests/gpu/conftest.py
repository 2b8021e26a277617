"""Fixtures of the GPU suite (skipped with the reason where no engine can run: tests/conftest.py)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from gpu_support import torch_routes

SMALL_BATCH = 4
RESULTS_ENV = "TRTFORGE_GPU_RESULTS"  # a file: one record per test, written as each one ends


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Append each test's outcome (and its failure text) to $TRTFORGE_GPU_RESULTS at once: a lent
    GPU can be taken back mid-run, and pytest prints failures only at the end of the session."""
    target = os.environ.get(RESULTS_ENV)
    if not target or (report.when != "call" and report.outcome == "passed"):
        return
    with Path(target).open("a", encoding="utf-8") as stream:
        stream.write(f"== {report.nodeid} [{report.when}] {report.outcome} {report.duration:.1f}s\n")
        if report.outcome != "passed":
            stream.write(f"{report.longreprtext}\n")
        if report.capstdout and report.when == "call":
            stream.write(report.capstdout)


@pytest.fixture(scope="module")
def torch_cuda() -> Any:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch has no CUDA device")
    return torch


@pytest.fixture(scope="module")
def resnet18_fp32(torch_cuda: Any) -> tuple[Any, Any, Any]:
    """(model, seeded input of batch 4, fp32 engine without TF32) from the first torch route."""
    torchvision = pytest.importorskip("torchvision")
    import trtforge

    routes = torch_routes()
    if not routes:
        pytest.skip("no installed route accepts torch modules")
    torch = torch_cuda
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(SMALL_BATCH, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    return model, x, trtforge.convert(model, backend=routes[0], inputs=[x], cache=False, tf32=False)
