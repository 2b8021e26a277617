from __future__ import annotations

import pytest
import tensorflow as tf

from tftrt_harness import assert_matches, layer_types, seeded


@pytest.mark.parametrize("padding,stride,dilation", [("SAME", 1, 1), ("VALID", 2, 1), ("SAME", 2, 1),
                                                     ("SAME", 1, 2)])
def test_conv2d(padding: str, stride: int, dilation: int) -> None:
    kernel = seeded(3, 3, 3, 5, seed=1)
    assert_matches(lambda x: tf.nn.conv2d(x, kernel, stride, padding, dilations=dilation),
                   seeded(2, 9, 9, 3), op="Conv2D")


def test_conv2d_explicit_padding() -> None:
    kernel = seeded(3, 3, 2, 4, seed=1)
    pads = [[0, 0], [1, 2], [0, 1], [0, 0]]
    assert_matches(lambda x: tf.nn.conv2d(x, kernel, 1, pads), seeded(1, 6, 6, 2), op="Conv2D")


def test_grouped_conv2d() -> None:
    kernel = seeded(3, 3, 2, 6, seed=3)  # 4 input channels in 2 groups
    assert_matches(lambda x: tf.nn.conv2d(x, kernel, 1, "SAME"), seeded(1, 6, 6, 4), op="Conv2D")


@pytest.mark.parametrize("multiplier,stride", [(1, 1), (2, 2)])
def test_depthwise_conv2d(multiplier: int, stride: int) -> None:
    kernel = seeded(3, 3, 4, multiplier, seed=2)
    assert_matches(lambda x: tf.nn.depthwise_conv2d(x, kernel, [1, stride, stride, 1], "SAME"),
                   seeded(1, 8, 8, 4), op="DepthwiseConv2dNative")


@pytest.mark.parametrize("padding,stride,size", [("SAME", 2, 8), ("VALID", 2, 9), ("SAME", 1, 4)])
def test_conv2d_transpose(padding: str, stride: int, size: int) -> None:
    kernel = seeded(3, 3, 5, 3, seed=4)  # [h, w, out, in]
    assert_matches(lambda x: tf.nn.conv2d_transpose(x, kernel, [1, size, size, 5], stride, padding),
                   seeded(1, 4, 4, 3), op="Conv2DBackpropInput")


def test_conv_chain_transposes_only_at_the_boundary() -> None:
    """conv -> relu -> conv -> pool stays NCHW inside: one transpose in, one out."""
    k1, k2 = seeded(3, 3, 3, 4, seed=1), seeded(3, 3, 4, 4, seed=2)

    def fn(x: tf.Tensor) -> tf.Tensor:
        y = tf.nn.relu(tf.nn.conv2d(x, k1, 1, "SAME"))
        return tf.nn.max_pool2d(tf.nn.conv2d(y, k2, 1, "SAME"), 2, 2, "VALID")

    engine = assert_matches(fn, seeded(1, 8, 8, 3))
    assert layer_types(engine).count("SHUFFLE") == 2
