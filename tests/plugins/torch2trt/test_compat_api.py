"""torch2trt's own API: a torch2trt script runs with one import changed; state_dict round trip."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch

from trtforge.verify.checking import check
from trtforge.errors import UsageError
from trtforge_torch2trt import TRTModule, torch2trt
from t2t_harness import TARGET


def small() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                               torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 4)).eval()


def test_torch2trt_signature_builds_and_state_dict_round_trips() -> None:
    model = small()
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    model_trt = torch2trt(model, [x], fp16_mode=True, max_batch_size=8, max_workspace_size=1 << 26,
                          target=TARGET)
    assert isinstance(model_trt, torch.nn.Module) and type(model_trt).__name__ == "TRTModule"
    engine = model_trt.engine
    assert engine.precision == "fp16"
    assert engine.metadata["profiles"][0]["profiles"][0] == {"min": [1, 3, 16, 16], "opt": [2, 3, 16, 16],
                                                             "max": [8, 3, 16, 16]}
    assert check(model, engine).passed
    buffer = io.BytesIO()
    torch.save(model_trt.state_dict(), buffer)  # torch2trt's idiom: torch.save(model_trt.state_dict(), path)
    buffer.seek(0)
    reloaded = TRTModule()
    reloaded.load_state_dict(torch.load(buffer, weights_only=False))
    assert reloaded.engine.plan == engine.plan and reloaded.output_names == model_trt.output_names
    assert reloaded.input_names == model_trt.input_names
    assert reloaded.engine.metadata["precision"] == "fp16"  # the sidecar's facts travel with the plan


def test_a_corrupt_state_dict_is_refused() -> None:
    model = small()
    model_trt = torch2trt(model, [torch.zeros(1, 3, 16, 16)], target=TARGET)
    state = model_trt.state_dict()
    plan = state["engine"].clone()
    plan[len(plan) // 2] ^= 0xFF
    state["engine"] = plan
    with pytest.raises(RuntimeError, match="does not match the hash"):
        TRTModule().load_state_dict(state)
    # edited metadata is checked like a sidecar on disk (schema, TensorRT identity)
    state = model_trt.state_dict()
    metadata = json.loads(bytes(state["metadata"].numpy().tobytes()))
    del metadata["tensorrt"]
    state["metadata"] = torch.frombuffer(bytearray(json.dumps(metadata).encode()), dtype=torch.uint8)
    with pytest.raises(RuntimeError, match="lacks tensorrt"):
        TRTModule().load_state_dict(state)
    state["metadata"] = torch.frombuffer(bytearray(b"{not json"), dtype=torch.uint8)
    with pytest.raises(RuntimeError, match="cannot be used"):
        TRTModule().load_state_dict(state)


def test_unknown_and_unsupported_arguments_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown argument"):
        torch2trt(small(), [torch.zeros(1, 3, 16, 16)], fp32_mode=True)
    with pytest.raises(UsageError, match="use_onnx"):
        torch2trt(small(), [torch.zeros(1, 3, 16, 16)], use_onnx=True)
    with pytest.raises(UsageError, match="holds no engine"):
        TRTModule()(torch.zeros(1))
