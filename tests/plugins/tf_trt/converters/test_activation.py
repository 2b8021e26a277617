from __future__ import annotations

import pytest
import tensorflow as tf

from tftrt_harness import assert_matches, seeded

ACTIVATIONS = {
    "Relu": tf.nn.relu, "Relu6": tf.nn.relu6, "Elu": tf.nn.elu, "Selu": tf.nn.selu,
    "LeakyRelu": lambda x: tf.nn.leaky_relu(x, 0.1), "Sigmoid": tf.sigmoid, "Tanh": tf.tanh,
    "Softplus": tf.nn.softplus, "Softsign": tf.nn.softsign,
}


@pytest.mark.parametrize("op", sorted(ACTIVATIONS))
def test_activation(op: str) -> None:
    assert_matches(ACTIVATIONS[op], seeded(2, 5, 6, 3, scale=3.0), op=op)


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_clip_by_value(precision: str) -> None:
    assert_matches(lambda x: tf.raw_ops.ClipByValue(t=x, clip_value_min=-0.5, clip_value_max=1.5), seeded(3, 7, scale=2.0),
                   op="ClipByValue", precision=precision)
