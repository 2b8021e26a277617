"""The model zoo rebuilds the seed models with the ops that matter and trains a real classifier."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from trtforge_zoo import models as zoo


def _graph_nodes(graph_def) -> list:
    nodes = list(graph_def.node)
    for function in graph_def.library.function:
        nodes.extend(function.node_def)
    return nodes


def _graph_ops(graph_def) -> set[str]:
    return {n.op for n in _graph_nodes(graph_def)}


def test_model1_is_a_frozen_plain_convnet(tmp_path: Path) -> None:
    import tensorflow as tf

    m = zoo.model1_frozen_convnet(tmp_path, input_size=16)
    assert m.kind == "tf-frozen-graph" and m.path.suffix == ".pb" and m.layout == "NHWC"
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(m.path.read_bytes())
    ops = _graph_ops(graph_def)
    assert {"Placeholder", "Conv2D", "MaxPool", "MatMul"} <= ops
    assert not ops & {"VariableV2", "VarHandleOp", "ConcatV2", "FusedBatchNormV3"}
    out = m.reference(m.example)
    assert out.shape == (1, 10) and np.isfinite(out).all()
    again = zoo.model1_frozen_convnet(tmp_path / "again", input_size=16)
    np.testing.assert_array_equal(again.reference(m.example), out)  # seeded


def test_model3_savedmodel_has_cast_concat_and_batchnorm(tmp_path: Path) -> None:
    import tensorflow as tf

    m = zoo.model3_tf_resnet50(tmp_path, input_size=32, width=8)
    assert (m.path / "saved_model.pb").is_file() and m.inputs[0].dtype == "uint8"
    loaded = tf.saved_model.load(str(m.path))
    serve = loaded.signatures["serving_default"]
    ops = _graph_ops(serve.graph.as_graph_def())
    assert {"Cast", "ConcatV2", "FusedBatchNormV3"} <= ops
    convs = [n for n in _graph_nodes(serve.graph.as_graph_def()) if n.op == "Conv2D"]
    assert len(convs) == 1 + 16 * 3 + 4  # stem + 16 bottlenecks x 3 convs + 4 projections
    got = serve(image=tf.constant(m.example))["logits"].numpy()
    np.testing.assert_allclose(got, m.reference(m.example), rtol=1e-5, atol=1e-5)


def test_model2_is_keras_resnet50_with_added_shortcuts(tmp_path: Path) -> None:
    import keras

    m = zoo.model2_keras_resnet50(tmp_path, input_size=32)
    assert m.path.suffix == ".keras" and m.kind == "keras-file"
    loaded = keras.models.load_model(m.path)
    names = [layer.name for layer in loaded.layers]
    assert "conv5_block3_out" in names and sum(n.startswith("shortcut") for n in names) == 6
    np.testing.assert_allclose(np.asarray(loaded(m.example)), m.reference(m.example), rtol=1e-5, atol=1e-5)


def test_model4_flattens_with_view_and_keeps_resnet50_size() -> None:
    import inspect

    import torch

    m = zoo.model4_torch_resnet50(input_size=32, num_classes=1000)
    assert "x.view(x.size(0), -1)" in inspect.getsource(type(m.model).forward)
    assert sum(p.numel() for p in m.model.parameters()) == 25_557_032
    batch = np.random.default_rng(1).standard_normal((3, 3, 32, 32)).astype(np.float32)
    out = m.reference(batch)
    assert out.shape == (3, 1000) and np.isfinite(out).all() and not m.model.training
    assert isinstance(m.model, torch.nn.Module)


def test_digits_classifier_learns_the_real_dataset() -> None:
    m = zoo.digits_classifier()
    digits = m.extra["digits"]
    assert digits.x_train.shape[1:] == (1, 8, 8) and len(digits.x_test) > 400
    assert m.extra["accuracy"] >= 0.95
    assert m.extra["accuracy"] == zoo.accuracy(m.reference(digits.x_test), digits.y_test)


def test_digits_keras_twin_learns_too() -> None:
    m = zoo.digits_keras_classifier()
    assert m.layout == "NHWC" and m.extra["digits"].x_test.shape[1:] == (8, 8, 1)
    assert m.extra["accuracy"] >= 0.9
