"""Each accepted kind exports to ONNX with detected, overridable names; NHWC stays NHWC."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import onnx
import pytest

import trtforge
from trtforge_zoo import models as zoo

from .conftest import max_rel_error, run_onnx


def _prepared(engine: trtforge.Engine) -> Any:
    return onnx.load_from_string(engine.extras["artifacts"]["onnx"])


def _dims(value: Any) -> list[int]:
    return [d.dim_value for d in value.type.tensor_type.shape.dim]


@pytest.fixture(scope="module")
def tiny_keras() -> Any:
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((8, 8, 1), name="pixels"),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
        keras.layers.Flatten(), keras.layers.Dense(3, name="scores"),
    ])


def test_keras_in_memory_keeps_nhwc_unless_asked(tiny_keras: Any) -> None:
    x = np.random.default_rng(0).standard_normal((1, 8, 8, 1)).astype(np.float32)
    engine = trtforge.convert(tiny_keras, backend="onnx_trt", target="sm89", cache=False)
    model = _prepared(engine)
    assert model.graph.input[0].name == "pixels" and _dims(model.graph.input[0]) == [1, 8, 8, 1]
    got = run_onnx(model, {"pixels": x})[0]
    assert max_rel_error(got, np.asarray(tiny_keras(x))) <= 1e-4
    nchw = trtforge.convert(tiny_keras, backend="onnx_trt", target="sm89", cache=False,
                            options={"inputs_as_nchw": ["pixels"]})
    model = _prepared(nchw)
    assert _dims(model.graph.input[0]) == [1, 1, 8, 8]
    got = run_onnx(model, {"pixels": x.transpose(0, 3, 1, 2).copy()})[0]
    assert max_rel_error(got, np.asarray(tiny_keras(x))) <= 1e-4


def test_keras_h5_file(tiny_keras: Any, tmp_path: Path) -> None:
    path = tmp_path / "tiny.h5"
    tiny_keras.save(path)
    engine = trtforge.convert(path, backend="onnx_trt", target="sm89", cache=False)
    assert engine.metadata["source"]["kind"] == "keras-file"
    x = np.ones((1, 8, 8, 1), np.float32)
    got = run_onnx(_prepared(engine), {"pixels": x})[0]
    assert max_rel_error(got, np.asarray(tiny_keras(x))) <= 1e-4


def test_in_memory_graphdef_with_overridden_output(seed_model: Callable[[str], zoo.ZooModel]) -> None:
    import tensorflow as tf

    m = seed_model("model1")
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(m.path.read_bytes())
    detected = trtforge.convert(graph_def, backend="onnx_trt", target="sm89", cache=False)
    assert detected.metadata["source"]["kind"] == "tf-graphdef"
    assert [o["name"] for o in detected.metadata["outputs"]] == ["logits:0"]
    cut = trtforge.convert(graph_def, backend="onnx_trt", target="sm89", cache=False,
                           options={"output_names": ["flatten:0"]})
    assert [o["name"] for o in cut.metadata["outputs"]] == ["flatten:0"]
    assert cut.metadata["outputs"][0]["shape"] == [1, 4 * 4 * 64]


def test_torch_dynamic_batch_with_either_exporter(digits: zoo.ZooModel) -> None:
    spec = [trtforge.InputSpec("x", min=(1, 1, 8, 8), opt=(4, 1, 8, 8), max=(16, 1, 8, 8))]
    x = digits.extra["digits"].x_test[:5]
    for exporter in ("dynamo", "torchscript"):
        engine = trtforge.convert(digits.model, backend="onnx_trt", target="sm89", cache=False, inputs=spec,
                                  options={"torch_exporter": exporter})
        model = _prepared(engine)
        assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # dynamic batch
        assert engine.metadata["inputs"][0]["shape"][0] == -1
        assert any(("dynamo=True" if exporter == "dynamo" else "TorchScript") in n for n in engine.metadata["notes"])
        got = run_onnx(model, {"x": x})[0]
        assert max_rel_error(got, digits.reference(x)) <= 1e-4
