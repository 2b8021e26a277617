"""GPU suite: build with every installed route, run on the GPU, compare with PyTorch there.

Runs wherever a GPU and a TensorRT that can run engines exist (``make test-gpu``); elsewhere
every test is skipped with the reason (see tests/conftest.py). Tolerances are the ones
``trtforge.check`` uses, except fp32, which is held to relative error <= 1e-3: built with
``tf32=False`` and compared with PyTorch run without TF32 (TF32 alone moves ResNet50 3.5e-3).
``TRTFORGE_GPU_OPT_LEVEL`` (default 1) sets the builder optimization level: these tests check
behaviour, not speed, and level 1 builds a ResNet50 in seconds instead of a minute.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from gpu_support import torch_routes

pytestmark = pytest.mark.gpu

MODELS = ("resnet50", "mobilenet_v2")
PRECISIONS = ("fp32", "fp16", "int8")
BATCH = 16


def _opt_level() -> int:
    return int(os.environ.get("TRTFORGE_GPU_OPT_LEVEL", "1"))


@pytest.fixture(scope="module", params=MODELS)
def model(request: pytest.FixtureRequest, torch_cuda: Any) -> Iterator[Any]:
    torchvision = pytest.importorskip("torchvision")
    from trtforge_zoo.models import recompute_batchnorm_statistics

    torch_cuda.manual_seed(0)
    net = getattr(torchvision.models, request.param)(weights=None).eval()
    if request.param == "mobilenet_v2":
        # Its default initialisation gives logits of ~1e-9 (measured on the H200 run of
        # 2026-12-02), below FP16's smallest subnormal (6e-8): an FP16 engine returns zeros.
        # Batch statistics from one seeded batch bring them to ~0.5, as training would.
        recompute_batchnorm_statistics(net, _inputs(torch_cuda, 16, seed=2))
    yield net


def _inputs(torch: Any, batch: int, seed: int = 1) -> Any:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, 224, 224, generator=generator)


def _calibration(torch: Any) -> Any:
    from trtforge.int8.calibration import Calibration

    return Calibration(data=[(_inputs(torch, 8, seed=100 + i),) for i in range(4)])


@pytest.fixture(scope="module")
def first_route_engine(model: Any) -> Any:
    """One fp32 engine (dynamic batch 1..8) from the first installed route that takes torch
    modules, shared by the runtime tests below (one build per model instead of three)."""
    import trtforge
    from trtforge import InputSpec

    routes = torch_routes()
    if not routes:
        pytest.skip("no installed route accepts torch modules")
    spec = InputSpec(None, min=(1, 3, 224, 224), opt=(4, 3, 224, 224), max=(8, 3, 224, 224))
    return trtforge.convert(model.cpu(), backend=routes[0], inputs=[spec], cache=False, tf32=False,
                            optimization_level=_opt_level())


def _reference(model: Any, x: Any, torch: Any) -> Any:
    """PyTorch fp32 on this GPU, without TF32 (cuDNN uses it for convolutions by default)."""
    backends = torch.backends
    saved = (backends.cudnn.allow_tf32, backends.cuda.matmul.allow_tf32)
    backends.cudnn.allow_tf32 = backends.cuda.matmul.allow_tf32 = False
    try:
        with torch.no_grad():
            return model.cuda()(x.cuda()).float().cpu().numpy()
    finally:
        backends.cudnn.allow_tf32, backends.cuda.matmul.allow_tf32 = saved


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("route", torch_routes() or ["<none installed>"])
def test_route_runs_and_agrees_with_pytorch(route: str, precision: str, model: Any, torch_cuda: Any,
                                            tmp_path: Path) -> None:
    import trtforge
    from trtforge import InputSpec
    from trtforge.verify.checking import compare_arrays, tolerance_for

    if route == "<none installed>":
        pytest.skip("no installed route accepts torch modules")
    torch = torch_cuda
    spec = InputSpec(None, min=(1, 3, 224, 224), opt=(BATCH, 3, 224, 224), max=(BATCH, 3, 224, 224))
    engine = trtforge.convert(
        model.cpu(), backend=route, precision=precision, inputs=[spec], cache=tmp_path / "cache",
        calibration=_calibration(torch) if precision == "int8" else None,
        tf32=precision != "fp32", optimization_level=_opt_level(),
    )
    x = _inputs(torch, BATCH)
    expected = _reference(model, x, torch)
    got = engine(x.cuda())
    assert got.is_cuda, "torch CUDA input gives torch CUDA output"
    got = got.float().cpu().numpy()
    metrics = compare_arrays("logits", expected, got, tolerance_for(precision), classifier=True)
    if precision == "fp32":
        assert metrics.max_rel <= 1e-3, metrics.to_dict()
        assert metrics.top1 == 1.0, metrics.to_dict()
    else:  # top-1 counts on decisive samples only (random-weight MobileNetV2 has none at fp16)
        assert metrics.passed, (metrics.reasons, metrics.to_dict())


def test_dynamic_batch_save_load_run(model: Any, first_route_engine: Any, torch_cuda: Any,
                                     tmp_path: Path) -> None:
    import numpy as np

    import trtforge

    torch = torch_cuda
    path = first_route_engine.save(tmp_path / "model.engine")
    loaded = trtforge.Engine.load(path)
    for batch in (1, 3, 8):
        x = _inputs(torch, batch, seed=batch)
        expected = _reference(model, x, torch)
        outputs = loaded.run(x.numpy())            # numpy in -> numpy out
        (value,) = outputs.values()
        assert isinstance(value, np.ndarray) and value.shape == expected.shape
        assert float(np.abs(value - expected).max() / np.abs(expected).max()) <= 1e-3


def test_runtime_error_paths(first_route_engine: Any, torch_cuda: Any) -> None:
    from trtforge.errors import TrtforgeError

    torch = torch_cuda
    engine = first_route_engine
    with pytest.raises(TrtforgeError, match="profile|shape"):
        engine(torch.randn(16, 3, 224, 224).cuda())       # batch above the profile's max
    with pytest.raises(TrtforgeError, match="shape"):
        engine(torch.randn(1, 3, 100, 224).cuda())         # wrong spatial size
    with pytest.raises(TrtforgeError):
        engine(torch.randn(1, 3, 224, 224), torch.randn(1, 3, 224, 224))  # too many inputs
    assert engine(torch.randn(2, 3, 224, 224).cuda()).shape[0] == 2      # still usable after errors


def test_cuda_graph_matches_plain_run(first_route_engine: Any, torch_cuda: Any) -> None:
    torch = torch_cuda
    x = _inputs(torch, 1)
    engine = first_route_engine
    plain = engine.run(x.cuda())
    graphed = engine.run(x.cuda(), cuda_graph=True)
    graphed_again = engine.run(x.cuda(), cuda_graph=True)
    for name in plain:
        assert torch.equal(graphed[name], graphed_again[name])
        assert torch.allclose(plain[name], graphed[name], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fixed", [True, False], ids=["fixed-batch", "dynamic-batch"])
@pytest.mark.parametrize("route", torch_routes() or ["<none installed>"])
def test_resnet18_fixed_and_dynamic_batch_agree_with_pytorch(route: str, fixed: bool, torch_cuda: Any) -> None:
    """Both routes x fixed/dynamic batch x numpy and torch-CUDA inputs. Written when the
    fixed-shape ResNet18 of conftest.py seemed wrong on 8.6 (2026-12-02): the engines were
    right, its snapshot was not (TensorRT 8.6 read back wrong weights; see
    benchmarks/results/2026-12-02b-h200-trt8.6). A failure lists the engine's layers."""
    import torchvision

    import trtforge
    from trtforge import InputSpec
    from trtforge.verify.checking import compare_arrays, tolerance_for

    if route == "<none installed>":
        pytest.skip("no installed route accepts torch modules")
    torch = torch_cuda
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    x = _inputs(torch, 4)
    spec = x if fixed else InputSpec(None, min=(1, 3, 224, 224), opt=(4, 3, 224, 224), max=(8, 3, 224, 224))
    engine = trtforge.convert(model, backend=route, inputs=[spec], cache=False, tf32=False,
                              optimization_level=_opt_level())
    expected = _reference(model, x, torch)
    from_numpy = next(iter(engine.run({engine.inputs[0]["name"]: x.numpy()}).values()))
    from_torch = engine(x.cuda()).float().cpu().numpy()
    results = {kind: compare_arrays("logits", expected, got, tolerance_for("fp32"))
               for kind, got in (("numpy", from_numpy), ("torch", from_torch))}
    if all(m.passed for m in results.values()):
        return
    from trtforge.report.profiling import profile_engine

    layers = [f"{layer.name} [{layer.layer_type}]" for layer in profile_engine(engine, 4, iterations=1).layers]
    pytest.fail(f"{route}, {'fixed' if fixed else 'dynamic'} batch: "
                + "; ".join(f"{kind} input: {m.reasons}" for kind, m in results.items())
                + f"; engine layers ({len(layers)}): {layers}")
