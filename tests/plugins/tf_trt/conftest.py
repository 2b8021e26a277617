"""Fixtures of the tf_trt route tests: small seed models built once per session."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import pytest

from trtforge_zoo import models as zoo

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def zoo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("zoo")


@pytest.fixture(scope="session")
def seed_model(zoo_dir: Path) -> Callable[[str], zoo.ZooModel]:
    """``seed_model("model1")``: the TensorFlow seed models at test sizes (model3 narrow)."""
    built: dict[str, zoo.ZooModel] = {}
    makers = {
        "model1": lambda: zoo.model1_frozen_convnet(zoo_dir / "model1", input_size=32),
        "model2": lambda: zoo.model2_keras_resnet50(zoo_dir / "model2", input_size=32),
        "model3": lambda: zoo.model3_tf_resnet50(zoo_dir / "model3", input_size=32, width=16),
    }

    def get(name: str) -> zoo.ZooModel:
        if name not in built:
            built[name] = makers[name]()
        return built[name]

    return get
