"""Softmax, MatMul/BatchMatMul, Pad/PadV2/MirrorPad, Cast, Resize, GatherV2."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tftrt_harness import assert_matches, seeded


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_softmax(precision: str) -> None:
    assert_matches(tf.nn.softmax, seeded(2, 3, 7, scale=3.0), op="Softmax", precision=precision)
    assert_matches(tf.nn.log_softmax, seeded(2, 7, scale=3.0), op="LogSoftmax", precision=precision)


def test_softmax_of_nchw_held_tensor() -> None:
    kernel = seeded(1, 1, 3, 4, seed=1)
    assert_matches(lambda x: tf.nn.softmax(tf.nn.conv2d(x, kernel, 1, "SAME")), seeded(1, 3, 3, 3),
                   op="Softmax")


@pytest.mark.parametrize("transpose_a,transpose_b", [(False, False), (True, False), (False, True)])
def test_matmul(transpose_a: bool, transpose_b: bool) -> None:
    w = seeded(5, 4, seed=1) if not transpose_b else seeded(4, 5, seed=1)
    a = seeded(3, 5) if not transpose_a else seeded(5, 3)
    assert_matches(lambda x: tf.matmul(x, w, transpose_a=transpose_a, transpose_b=transpose_b), a, op="MatMul")


def test_matmul_of_two_activations_and_batch_matmul() -> None:
    assert_matches(lambda a, b: tf.matmul(a, b), seeded(3, 4), seeded(4, 2, seed=1), op="MatMul")
    assert_matches(lambda a, b: tf.matmul(a, b, adjoint_b=True), seeded(2, 3, 4), seeded(2, 5, 4, seed=1),
                   op="BatchMatMulV2")
    w = seeded(4, 6, seed=2)
    assert_matches(lambda a: tf.linalg.matmul(a, w), seeded(2, 3, 4), op="BatchMatMulV2")


def test_pads() -> None:
    pads = [[0, 0], [1, 2], [2, 1], [0, 0]]
    assert_matches(lambda a: tf.pad(a, pads), seeded(1, 3, 3, 2), op="Pad")
    assert_matches(lambda a: tf.pad(a, pads, constant_values=1.5), seeded(1, 3, 3, 2), op="PadV2")
    assert_matches(lambda a: tf.pad(a, pads, mode="REFLECT"), seeded(1, 4, 4, 2), op="MirrorPad")


@pytest.mark.parametrize("mode,value", [("CONSTANT", 0.0), ("CONSTANT", 1.5), ("REFLECT", 0.0)])
def test_pads_with_a_dynamic_batch(mode: str, value: float) -> None:
    """A dynamic batch (Keras ResNet50's stem pad under a batch profile): the slice's size comes
    from the run-time shape; no TensorFlow fallback."""
    import trtforge
    from trtforge.verify.checking import check
    from trtforge.conversion.engine import Engine
    from trtforge.models.tf_graphs import frozen_graph

    from tftrt_harness import convert, converted_ops

    kernel = seeded(1, 1, 2, 2, seed=1)
    pads = [[0, 0], [2, 1], [1, 2], [0, 0]]

    def fn(a: tf.Tensor) -> tf.Tensor:  # held NCHW after the convolution
        return tf.pad(tf.nn.conv2d(a, kernel, 1, "SAME"), pads, mode=mode, constant_values=value)

    spec = tf.TensorSpec([None, 4, 4, 2], tf.float32, name="x0")
    graph_def = frozen_graph(tf.function(fn, input_signature=[spec]), grappler=False).graph_def
    profile = trtforge.InputSpec("x0", min=(1, 4, 4, 2), opt=(2, 4, 4, 2), max=(4, 4, 4, 2))
    engine = convert(graph_def, inputs=[profile])
    assert isinstance(engine, Engine), "converted with a TensorFlow segment"
    assert {"Pad", "PadV2", "MirrorPad"} & set(converted_ops(engine))
    assert engine.metadata["outputs"][0]["shape"][0] == -1
    x = seeded(3, 4, 4, 2, seed=2)
    assert check(graph_def, engine, inputs=[x]).passed


def test_pad_of_nchw_held_tensor() -> None:
    kernel = seeded(1, 1, 2, 2, seed=1)
    assert_matches(lambda a: tf.pad(tf.nn.conv2d(a, kernel, 1, "SAME"), [[0, 0], [1, 0], [0, 2], [0, 0]]),
                   seeded(1, 3, 3, 2), op="Pad")


def test_cast() -> None:
    assert_matches(lambda a: tf.cast(a, tf.float32) * 0.5, np.arange(12, dtype=np.uint8).reshape(3, 4), op="Cast")
    assert_matches(lambda a: tf.cast(tf.cast(a * 4.0, tf.int32), tf.float32), seeded(3, 4), op="Cast")


@pytest.mark.parametrize("method,align,half", [
    ("ResizeBilinear", False, False), ("ResizeBilinear", True, False), ("ResizeBilinear", False, True),
    ("ResizeNearestNeighbor", False, False), ("ResizeNearestNeighbor", True, False),
    ("ResizeNearestNeighbor", False, True),
])
def test_resize(method: str, align: bool, half: bool) -> None:
    op = getattr(tf.raw_ops, method)
    assert_matches(lambda a: op(images=a, size=[7, 10], align_corners=align, half_pixel_centers=half),
                   seeded(1, 4, 5, 3), op=method)


def test_gather() -> None:
    assert_matches(lambda a: tf.gather(a, [2, 0, 3, 0], axis=1), seeded(2, 4, 3), op="GatherV2")
    table = seeded(6, 3, seed=2)
    assert_matches(lambda i: tf.gather(table, i), np.array([[1, 5], [0, 2]], np.int32), op="GatherV2")
