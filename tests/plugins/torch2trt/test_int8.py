"""INT8 of the torch2trt route: the PyTorch simulation accuracy control relies on (it must
round exactly like the network's Q/DQ layers), accuracy control, and the calibration cache
(method, scales and float choices identical when read back). The calibration methods are
core's, tested in tests/core/test_calibration_methods.py."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from trtforge import InputSpec
from trtforge.conversion.api import BuildSpec
from trtforge.int8.calibration import Calibration, CalibrationCache
from trtforge.verify.checking import resolve_snapshot
from trtforge.reference import Executor
from trtforge_zoo.models import recompute_batchnorm_statistics
from trtforge_torch2trt.accuracy import FakeQuantRunner, cosine, quantized_ops, residual_adds
from trtforge_torch2trt.capture import capture
from trtforge_torch2trt.coverage import mark_constants
from t2t_harness import convert, layer_types, seeded

SPEC = InputSpec("x", min=(1, 3, 16, 16), opt=(4, 3, 16, 16), max=(8, 3, 16, 16))


class ResidualGram(torch.nn.Module):
    """Convolutions, a residual add, a Gram matrix (activation x activation bmm), linear."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.BatchNorm2d(16),
                                        torch.nn.ReLU())
        self.branch = torch.nn.Sequential(
            torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
            torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.BatchNorm2d(16))
        self.head = torch.nn.Linear(16 * 16 + 16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.stem(x)
        y = torch.relu(y + self.branch(y))
        features = y.flatten(2)
        gram = torch.bmm(features, features.transpose(1, 2)) / features.shape[-1]
        return self.head(torch.cat([gram.flatten(1), y.mean((2, 3))], 1))


@pytest.fixture(scope="module")
def residual() -> torch.nn.Module:
    torch.manual_seed(0)
    model = ResidualGram().eval()
    recompute_batchnorm_statistics(model, seeded(8, 3, 16, 16, seed=1))
    return model


def _calibration(cache: Path | None = None, method: str = "max") -> Calibration:
    data = torch.cat([seeded(8, 3, 16, 16, seed=10 + i) for i in range(3)])
    return Calibration(data=data, batch_size=8, cache=cache, method=method)


def _scales(engine: object) -> dict[str, np.ndarray]:
    snapshot, _ = resolve_snapshot(engine)
    return {layer["name"]: snapshot.weight(layer["attrs"]["weights"])
            for layer in snapshot.layers if layer["name"].endswith("/scale")}


def _run_network(engine: object, x: np.ndarray) -> np.ndarray:
    snapshot, _ = resolve_snapshot(engine)
    return next(iter(Executor(snapshot).run({snapshot.inputs[0]["name"]: x}).numpy().values()))


# --- simulation == network ---------------------------------------------------------------
def test_simulation_rounds_like_the_network(residual: torch.nn.Module, tmp_path: Path) -> None:
    """accuracy control scores the network it builds: the PyTorch fake-quant run and the
    int8 network on the reference executor agree far better than either agrees with FP32."""
    cache_file = tmp_path / "residual.calib.json"
    engine = convert(residual, [SPEC], "int8", calibration=_calibration(cache_file),
                     options={"int8_min_cosine": 0})
    types = layer_types(engine)
    ops = quantized_ops(_captured(residual).graph)
    assert {op.node for op in ops} >= {"convolution", "convolution_1", "convolution_2", "bmm", "addmm"}
    weights = sum(len(op.weights) for op in ops)
    assert types.count("QUANTIZE") == len({k for op in ops for _, k in op.activations}) + weights
    # The residual Add reads the stem's Q/DQ'd output (the pair its first conv made) so
    # TensorRT fuses it into the last branch conv; every batch norm is folded into its conv.
    residuals = residual_adds(_captured(residual).graph, ops)
    assert [(r.key, r.leader) for r in residuals] == [("relu", "convolution_2")]
    assert "SCALE" not in types
    captured = _captured(residual)
    ranges = CalibrationCache.load(cache_file).ranges
    runner = FakeQuantRunner(captured, quantized_ops(captured.graph), ranges, residuals)
    x = seeded(4, 3, 16, 16, seed=99).numpy()
    simulated = runner.run({"x": x}, {op.node for op in runner.ops.values()})[0].numpy()
    network = _run_network(engine, x)
    with torch.no_grad():
        fp32 = residual(torch.from_numpy(x)).numpy()
    to_network = cosine([torch.from_numpy(network)], [torch.from_numpy(simulated)])
    to_fp32 = cosine([torch.from_numpy(fp32)], [torch.from_numpy(network)])
    assert 1 - to_network < 1e-4 and 1 - to_network < (1 - to_fp32) / 10, (to_network, to_fp32)
    assert np.abs(simulated - network).max() < 0.02 * (fp32.max() - fp32.min())


def _captured(model: torch.nn.Module) -> object:
    captured = capture(model, BuildSpec(inputs=(SPEC,)))
    mark_constants(captured.graph, set(captured.constants))
    return captured


# --- accuracy control and the cache ----------------------------------------------------------
def test_accuracy_control_keeps_sensitive_ops_in_float_and_the_cache_rebuilds_it(
        residual: torch.nn.Module, tmp_path: Path) -> None:
    cache_file = tmp_path / "strict.calib.json"
    options = {"int8_min_cosine": 0.99999}  # all-INT8 reaches 0.9999 here
    engine = convert(residual, [SPEC], "int8", calibration=_calibration(cache_file, "mse"), options=options)
    cache = CalibrationCache.load(cache_file)
    assert cache.method == "mse" and cache.producer == "torch2trt"
    assert 0 < len(cache.unquantized) < len(quantized_ops(_captured(residual).graph)), cache.unquantized
    assert any("kept in float" in note for note in engine.metadata["notes"])
    full = convert(residual, [SPEC], "int8", calibration=_calibration(None, "mse"), options={"int8_min_cosine": 0})
    assert layer_types(engine).count("QUANTIZE") < layer_types(full).count("QUANTIZE")
    # From the cache alone: the same ranges, the same float choices, the same scales.
    again = convert(residual, [SPEC], "int8", calibration=Calibration(cache=cache_file), options=options)
    assert any("read from calibration cache" in note for note in again.metadata["notes"])
    first, second = _scales(engine), _scales(again)
    assert first.keys() == second.keys() and first
    assert all(np.array_equal(first[k], second[k]) for k in first)
    x = seeded(4, 3, 16, 16, seed=5).numpy()
    assert np.array_equal(_run_network(engine, x), _run_network(again, x))


def test_cache_of_another_method_is_recalibrated(residual: torch.nn.Module, tmp_path: Path) -> None:
    cache_file = tmp_path / "methods.calib.json"
    convert(residual, [SPEC], "int8", calibration=_calibration(cache_file, "max"))
    peaks = CalibrationCache.load(cache_file).ranges
    engine = convert(residual, [SPEC], "int8", calibration=_calibration(cache_file, "percentile:99"))
    assert any("calibrating again" in note for note in engine.metadata["notes"])
    cache = CalibrationCache.load(cache_file)
    assert cache.method == "percentile:99"
    assert all(cache.ranges[k] <= peaks[k] for k in peaks) and any(cache.ranges[k] < peaks[k] for k in peaks)


# --- readers of a float depthwise convolution (TensorRT 8.x; see TrtFacts) --------------------
def test_depthwise_map_finds_the_pointwise_conv_behind_bn_and_relu6() -> None:
    from trtforge_torch2trt.accuracy import quantized_ops
    from trtforge_torch2trt.calibrate import depthwise_map

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU6(),
        torch.nn.Conv2d(8, 8, 3, padding=1, groups=8), torch.nn.BatchNorm2d(8), torch.nn.ReLU6(),
        torch.nn.Conv2d(8, 16, 1), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        torch.nn.Linear(16, 4)).eval()
    captured = _captured(model)
    ops = quantized_ops(captured.graph)
    found = depthwise_map(captured.graph, ops)
    convs = [op.node for op in ops if op.node.startswith("conv")]
    assert len(convs) == 3 and found == {convs[1]: [convs[2]]}, (found, [op.node for op in ops])
