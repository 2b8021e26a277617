"""The TensorRT adapter: version facts (fed as data) and real builds with TensorRT-RTX."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from trtforge.errors import BuildError, TensorRTError, UsageError
from trtforge.tensorrt.gpu import GpuInfo, GpuProbe
from trtforge.conversion.specs import BuildSettings, InputSpec
from trtforge.tensorrt.trt import TrtFacts

NO_GPU = GpuProbe((), "no NVIDIA driver on this machine (libcuda.so.1 not found)")
H200 = GpuProbe((GpuInfo(0, "NVIDIA H200", 9, 0),))
L4 = GpuProbe((GpuInfo(0, "NVIDIA L4", 8, 9),))


@pytest.mark.parametrize("flavor, version, typing, explicit_batch, bf16, aot, timing_cache, prune", [
    ("tensorrt", "8.5.3.1", "weak", True, False, False, True, True),
    ("tensorrt", "8.6.1", "weak", True, False, False, True, True),
    ("tensorrt", "10.13.0.35", "strong-flag", False, True, False, True, False),
    ("tensorrt", "11.0.0", "strong-implicit", False, True, False, True, False),
    ("tensorrt_rtx", "1.7.1.116", "strong-implicit", False, True, True, False, False),
])
def test_version_facts(flavor: str, version: str, typing: str, explicit_batch: bool, bf16: bool,
                       aot: bool, timing_cache: bool, prune: bool) -> None:
    facts = TrtFacts.of(flavor, version)
    assert facts.typing == typing
    assert facts.needs_explicit_batch_flag is explicit_batch
    assert facts.precision_via_builder_flags is (typing == "weak")
    assert facts.supports_bf16 is bf16
    assert facts.ahead_of_time_targets is aot
    assert facts.timing_cache is timing_cache
    assert facts.prune_missing_tactic_libraries is prune
    # the INT8 depthwise finding of 2026-12-03 (TensorRT 8.6 on the H200): weak typing only
    assert facts.quantizes_float_depthwise_output is (typing != "weak")
    assert any("depthwise" in b for b in facts.behaviours()) is (typing == "weak")
    assert any("TF32" in b for b in facts.behaviours())


def test_too_old_tensorrt_is_refused() -> None:
    with pytest.raises(TensorRTError, match="8.4.3 is too old"):
        TrtFacts.of("tensorrt", "8.4.3")
    with pytest.raises(UsageError):
        TrtFacts.of("tensorrt_llm", "1.0")


def _tiny_network(trt: Any, shape: tuple[int, ...] = (1, 3, 8, 8)) -> Any:
    module = trt.module
    network = trt.create_network()
    x = network.add_input("x", module.float32, shape)
    weights = np.ones((2, 3, 1, 1), np.float32)
    conv = network.add_convolution_nd(x, 2, (1, 1), module.Weights(weights), module.Weights(np.zeros(2, np.float32)))
    network.mark_output(conv.get_output(0))
    return network


def test_build_for_sm89_without_gpu(tensorrt: Any) -> None:
    result = tensorrt.build(_tiny_network(tensorrt), target="sm89")
    assert result.target == "sm89"
    assert len(result.plan) > 1000
    assert result.settings["typing"] == "strong-implicit"


def test_build_without_target_says_how_to_pick_one(tensorrt: Any) -> None:
    with pytest.raises(UsageError) as info:
        tensorrt.resolve_target(None, NO_GPU)
    assert "no GPU" in info.value.message
    assert "target='sm89'" in (info.value.hint or "")


def test_rtx_targets_and_run_decisions(tensorrt: Any) -> None:
    with pytest.raises(UsageError, match="cannot build for sm90"):
        tensorrt.resolve_target("sm90", NO_GPU)
    assert tensorrt.resolve_target(None, L4) is None  # the current GPU
    ok, why = tensorrt.can_run(H200)
    assert not ok and "9.0" in why
    ok, why = tensorrt.can_run(NO_GPU)
    assert not ok and "libcuda" in why
    assert tensorrt.can_run(L4)[0]
    assert tensorrt.can_build(NO_GPU) == (True, tensorrt.can_build(NO_GPU)[1])


def test_dynamic_input_without_profile_is_a_clear_error(tensorrt: Any) -> None:
    with pytest.raises(UsageError, match="dynamic shape"):
        tensorrt.build(_tiny_network(tensorrt, (-1, 3, 8, 8)), target="sm89")


def test_profiles_and_settings(tensorrt: Any) -> None:
    spec = InputSpec("x", profiles=[((1, 3, 8, 8), (2, 3, 8, 8), (4, 3, 8, 8)),
                                    ((8, 3, 8, 8),) * 3])
    settings = BuildSettings(optimization_level=1, workspace_bytes=1 << 26, tf32=False)
    result = tensorrt.build(_tiny_network(tensorrt, (-1, 3, 8, 8)), inputs=[spec], target="sm86",
                            settings=settings)
    assert result.settings["profiles"] == 2
    assert result.settings["optimization_level"] == 1
    assert result.settings["tf32"] is False


def test_spec_that_contradicts_the_network(tensorrt: Any) -> None:
    with pytest.raises(UsageError, match="does not fit"):
        tensorrt.build(_tiny_network(tensorrt), inputs=[InputSpec("x", shape=(1, 4, 8, 8))], target="sm89")
    with pytest.raises(UsageError, match=r"match no network input.*\['x'\]"):
        tensorrt.build(_tiny_network(tensorrt), inputs=[InputSpec("y", shape=(1, 3, 8, 8))], target="sm89")


def test_builder_failure_carries_tensorrt_message(tensorrt: Any) -> None:
    module = tensorrt.module
    network = tensorrt.create_network()
    a = network.add_input("a", module.float32, (1, 3, 8, 8))
    b = network.add_input("b", module.float32, (1, 4, 8, 8))
    network.mark_output(network.add_elementwise(a, b, module.ElementWiseOperation.SUM).get_output(0))
    with pytest.raises(BuildError, match="broadcast"):
        tensorrt.build(network, target="sm89")
    assert tensorrt.build_count >= 1
