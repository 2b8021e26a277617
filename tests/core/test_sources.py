"""Model detection and fingerprints."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trtforge.models.sources import detect


def _onnx_with_external_weights(folder: Path, scale: float) -> Path:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    weight = numpy_helper.from_array(np.full((64, 64), scale, np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])], [weight])
    model = helper.make_model(graph)
    path = folder / "model.onnx"
    onnx.save(model, str(path), save_as_external_data=True, location="weights.bin", size_threshold=0)
    return path


def test_onnx_fingerprint_covers_external_weights(tmp_path: Path) -> None:
    first = _onnx_with_external_weights(tmp_path / "a", 1.0)
    second = _onnx_with_external_weights(tmp_path / "b", 2.0)
    assert first.read_bytes() == second.read_bytes(), "the graphs differ only in external weights"
    assert detect(first).fingerprint != detect(second).fingerprint
    before = detect(first).fingerprint
    assert detect(first).fingerprint == before
    (tmp_path / "a" / "weights.bin").write_bytes(b"changed")
    assert detect(first).fingerprint != before


def test_paths_and_kinds(tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "saved_model.pb").write_bytes(b"x")
    assert detect(saved).kind == "tf-savedmodel"
    for name, kind in [("m.keras", "keras-file"), ("m.h5", "keras-file"), ("g.pb", "tf-frozen-graph"),
                       ("m.uff", "uff-file")]:
        path = tmp_path / name
        path.write_bytes(b"x")
        assert detect(path).kind == kind
        assert detect(str(path)).fingerprint == detect(path).fingerprint
