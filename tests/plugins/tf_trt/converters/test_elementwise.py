from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tftrt_harness import assert_matches, seeded

BIAS = np.linspace(-1, 1, 3).astype(np.float32)
BINARY = {
    "Add": lambda a, b: tf.raw_ops.Add(x=a, y=b), "AddV2": tf.add, "Sub": tf.subtract,
    "Mul": tf.multiply, "RealDiv": lambda a, b: a / (tf.abs(b) + 0.5), "Maximum": tf.maximum,
    "Minimum": tf.minimum, "Pow": lambda a, b: tf.pow(tf.abs(a) + 0.1, b),
    "SquaredDifference": tf.math.squared_difference,
    "AddN": lambda a, b: tf.add_n([a, b, a]),
}
UNARY = {
    "Rsqrt": lambda x: tf.math.rsqrt(tf.abs(x) + 0.1), "Sqrt": lambda x: tf.sqrt(tf.abs(x)),
    "Square": tf.square, "Exp": tf.exp, "Log": lambda x: tf.math.log(tf.abs(x) + 0.1),
    "Abs": tf.abs, "Neg": tf.negative, "Reciprocal": lambda x: tf.math.reciprocal(x + 4.0),
    "Floor": tf.floor, "Erf": tf.math.erf,
}


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary(op: str) -> None:
    assert_matches(BINARY[op], seeded(2, 4, 4, 3), seeded(2, 4, 4, 3, seed=1), op=op)


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary(op: str) -> None:
    assert_matches(UNARY[op], seeded(2, 4, 4, 3, scale=2.0), op=op)


def test_broadcast_constant_against_nchw_held_tensor() -> None:
    """A per-channel (C,) constant added to a convolution's NCHW-held output is permuted to
    (1, C, 1, 1); a (H, W, C) constant too."""
    kernel = seeded(3, 3, 3, 3, seed=4)
    plane = seeded(4, 4, 3, seed=5)

    def fn(x: tf.Tensor) -> tf.Tensor:
        y = tf.nn.conv2d(x, kernel, 1, "SAME")
        return (y + BIAS) * plane

    assert_matches(fn, seeded(1, 4, 4, 3), op="Conv2D")


def test_mixed_layout_operands() -> None:
    """One operand NCHW-held (after a convolution), the other in TensorFlow's order."""
    kernel = seeded(1, 1, 3, 3, seed=2)
    assert_matches(lambda x: tf.nn.conv2d(x, kernel, 1, "VALID") - x, seeded(1, 5, 5, 3), op="Sub")


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_reduced_precision_pow_stays_precise(precision: str) -> None:
    assert_matches(lambda a: tf.pow(tf.abs(a) + 1.0, 3.0), seeded(2, 8), op="Pow", precision=precision)
