"""trtforge.models.tf_graphs: every TensorFlow source frozen into one GraphDef that computes what the
source computes, with Grappler's passes and without fused (remapped) ops."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from trtforge_zoo import models as zoo
from trtforge.errors import ModelSourceError, UsageError
from trtforge.models.tf_graphs import FrozenGraph, frozen_graph

tf = pytest.importorskip("tensorflow")

FUSED_OPS = {"_FusedConv2D", "_FusedMatMul", "_FusedBatchNormEx", "_FusedDepthwiseConv2dNative"}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], zoo.ZooModel]:
    root = tmp_path_factory.mktemp("zoo")
    built: dict[str, zoo.ZooModel] = {}
    makers = {
        "model1": lambda: zoo.model1_frozen_convnet(root / "model1", input_size=16, channels=(4, 8)),
        "model2": lambda: zoo.model2_keras_resnet50(root / "model2", input_size=32),
        "model3": lambda: zoo.model3_tf_resnet50(root / "model3", input_size=32, width=4),
    }

    def get(name: str) -> zoo.ZooModel:
        if name not in built:
            built[name] = makers[name]()
        return built[name]

    return get


def _assert_close(got: np.ndarray, want: np.ndarray) -> None:
    want = np.asarray(want, np.float64)
    scale = max(float(np.abs(want).max()), 1e-6)
    assert np.abs(np.asarray(got, np.float64) - want).max() / scale < 1e-4


def _ops(frozen: FrozenGraph) -> set[str]:
    return set(frozen.op_counts())


def test_frozen_pb_keeps_its_names_and_computes_the_same(seeds: Callable[[str], zoo.ZooModel]) -> None:
    m = seeds("model1")
    frozen = frozen_graph(m.path)
    assert frozen.inputs == ("input:0",) and frozen.outputs == ("logits:0",)
    assert frozen.input_specs[0].shape == (None, 16, 16, 3) and frozen.input_specs[0].dtype == "float32"
    assert {"Conv2D", "BiasAdd", "MaxPool", "MatMul"} <= _ops(frozen)
    assert not _ops(frozen) & FUSED_OPS
    assert any("Grappler" in n for n in frozen.notes)
    _assert_close(frozen.run({"input:0": m.example})["logits:0"], m.reference(m.example))


def test_keras_file_and_in_memory_model(seeds: Callable[[str], zoo.ZooModel]) -> None:
    m = seeds("model2")
    frozen = frozen_graph(m.path)
    assert frozen.input_names == ["image"] and frozen.output_names == ["predictions"]
    assert frozen.input_specs[0].shape == (None, 32, 32, 3)
    ops = _ops(frozen)
    assert {"Conv2D", "Relu", "MaxPool", "Mean", "MatMul"} <= ops
    assert not ops & FUSED_OPS
    assert not ops & {"VarHandleOp", "ReadVariableOp", "StatefulPartitionedCall", "PartitionedCall"}
    _assert_close(frozen.run([m.example])["predictions"], m.reference(m.example))
    in_memory = frozen_graph(m.extra["keras_model"], grappler=False)
    _assert_close(in_memory.run({"image": m.example})["predictions"], m.reference(m.example))


def test_savedmodel_signature_by_name(seeds: Callable[[str], zoo.ZooModel]) -> None:
    m = seeds("model3")
    frozen = frozen_graph(m.path, signature="serving_default")
    assert frozen.input_names == ["image"] and frozen.output_names == ["logits"]
    assert frozen.input_specs[0].dtype == "uint8"
    assert {"Cast", "ConcatV2", "FusedBatchNormV3"} <= _ops(frozen)
    _assert_close(frozen.run({"image": m.example})["logits"], m.reference(m.example))


def test_tf_function_with_signature() -> None:
    w = tf.constant(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    v = tf.Variable(np.float32(2.0))

    @tf.function(input_signature=[tf.TensorSpec((None, 4), tf.float32, name="x")])
    def f(x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"y": tf.nn.relu(tf.matmul(x, w)) * v}

    frozen = frozen_graph(f)
    x = np.random.default_rng(1).standard_normal((2, 4)).astype(np.float32)
    assert frozen.input_names == ["x"] and frozen.output_names == ["y"]
    _assert_close(frozen.run([x])["y"], f(x)["y"].numpy())


def test_graph_cut_at_named_tensors(seeds: Callable[[str], zoo.ZooModel]) -> None:
    m = seeds("model1")
    frozen = frozen_graph(m.path, output_names=["flatten:0"])
    assert frozen.outputs == ("flatten:0",)
    assert "MatMul" not in _ops(frozen)  # pruned: nothing after the cut is kept


def test_errors_name_the_problem(seeds: Callable[[str], zoo.ZooModel], tmp_path: Path) -> None:
    with pytest.raises(ModelSourceError, match="does not exist"):
        frozen_graph(tmp_path / "missing.pb")
    corrupt = tmp_path / "corrupt.pb"
    corrupt.write_bytes(b"\x00\xffnot a graph" * 7)
    with pytest.raises(ModelSourceError, match="not a TensorFlow GraphDef|empty GraphDef"):
        frozen_graph(corrupt)
    bad_keras = tmp_path / "bad.keras"
    bad_keras.write_bytes(b"garbage")
    with pytest.raises(ModelSourceError, match="Keras cannot load"):
        frozen_graph(bad_keras)
    with pytest.raises(UsageError, match="no signature 'nope'.*serving_default"):
        frozen_graph(seeds("model3").path, signature="nope")
    with pytest.raises(UsageError, match="no output.*'nope:0'"):
        frozen_graph(seeds("model1").path, output_names=["nope:0"])
    with pytest.raises(UsageError, match="no input named 'pixels'.*image"):
        frozen_graph(seeds("model3").path, input_names=["pixels"])

    @tf.function
    def unsigned(x: tf.Tensor) -> tf.Tensor:
        return x + 1

    with pytest.raises(UsageError, match="no input signature"):
        frozen_graph(unsigned)
