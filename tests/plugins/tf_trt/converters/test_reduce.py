from __future__ import annotations

import pytest
import tensorflow as tf

from tftrt_harness import assert_matches, seeded

REDUCE = {"Mean": tf.reduce_mean, "Sum": tf.reduce_sum, "Max": tf.reduce_max, "Min": tf.reduce_min,
          "Prod": tf.reduce_prod}


@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("axes", [(1, 2), (-1,), (0, 3)])
@pytest.mark.parametrize("op", sorted(REDUCE))
def test_reduce(op: str, axes: tuple[int, ...], keep: bool) -> None:
    assert_matches(lambda x: REDUCE[op](x, axis=axes, keepdims=keep), seeded(2, 3, 4, 5, scale=0.5), op=op)


def test_reduce_after_conv_in_nchw() -> None:
    """Global average pooling of an NCHW-held tensor: axes (1, 2) of NHWC are 2, 3 held."""
    kernel = seeded(1, 1, 3, 6, seed=1)
    assert_matches(lambda x: tf.reduce_mean(tf.nn.conv2d(x, kernel, 1, "SAME"), axis=(1, 2)),
                   seeded(2, 5, 5, 3), op="Mean")


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
def test_arg_max(op: str) -> None:
    fn = tf.argmax if op == "ArgMax" else tf.argmin
    assert_matches(lambda x: fn(x, axis=-1, output_type=tf.int32), seeded(3, 7), op=op)
