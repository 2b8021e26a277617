"""Fixtures for the onnx_trt route tests: zoo models built once per session, ORT helpers."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from trtforge_zoo import models as zoo


def run_onnx(model: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Run an ONNX model (ModelProto or bytes) with onnxruntime on CPU."""
    import onnxruntime as ort

    data = model if isinstance(model, bytes) else model.SerializeToString()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def max_rel_error(got: np.ndarray, ref: np.ndarray) -> float:
    """Largest absolute difference relative to the reference's largest magnitude."""
    ref = np.asarray(ref, np.float64)
    return float(np.abs(np.asarray(got, np.float64) - ref).max() / max(np.abs(ref).max(), 1e-12))


@pytest.fixture(autouse=True)
def keep_prepared_onnx(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests read the prepared ONNX model (``artifacts["onnx"]``), an opt-in."""
    monkeypatch.setenv("TRTFORGE_KEEP_ONNX", "1")


@pytest.fixture(scope="session")
def zoo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("zoo")


@pytest.fixture(scope="session")
def seed_model(zoo_dir: Path) -> Callable[[str], zoo.ZooModel]:
    """``seed_model("model1")``: the seed model, built once per session at a small size
    (model3 with reduced width; model4 stays a full ResNet50)."""
    built: dict[str, zoo.ZooModel] = {}
    makers = {
        "model1": lambda: zoo.model1_frozen_convnet(zoo_dir / "model1", input_size=32),
        "model2": lambda: zoo.model2_keras_resnet50(zoo_dir / "model2", input_size=32),
        "model3": lambda: zoo.model3_tf_resnet50(zoo_dir / "model3", input_size=32, width=16),
        "model4": lambda: zoo.model4_torch_resnet50(input_size=64),
    }

    def get(name: str) -> zoo.ZooModel:
        if name not in built:
            built[name] = makers[name]()
        return built[name]

    return get


@pytest.fixture(scope="session")
def digits() -> zoo.ZooModel:
    return zoo.digits_classifier()
