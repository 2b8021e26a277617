from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tftrt_harness import assert_matches, layer_types, seeded


def test_identity_family() -> None:
    assert_matches(lambda x: tf.stop_gradient(tf.identity(x)) * 2.0, seeded(2, 3), op="StopGradient")
    assert_matches(lambda x: tf.raw_ops.IdentityN(input=[x, x])[1] + 1.0, seeded(2, 3), op="IdentityN")


def test_reshape_squeeze_expand_dims() -> None:
    assert_matches(lambda x: tf.reshape(x, (2, -1)) * 2.0, seeded(2, 3, 4), op="Reshape")
    assert_matches(lambda x: tf.squeeze(x, axis=1) + 1.0, seeded(2, 1, 4), op="Squeeze")
    assert_matches(lambda x: tf.expand_dims(x, -1) + 1.0, seeded(2, 4), op="ExpandDims")


def test_transpose_is_free_and_cancelling_pairs_vanish() -> None:
    def fn(x: tf.Tensor) -> tf.Tensor:
        y = tf.transpose(x, (0, 3, 1, 2))
        return tf.transpose(tf.nn.relu(y), (0, 2, 3, 1))  # back: no layer at all

    engine = assert_matches(fn, seeded(1, 4, 5, 3), op="Transpose")
    assert "SHUFFLE" not in layer_types(engine)
    assert_matches(lambda x: tf.transpose(x, (2, 0, 1)) * 1.5, seeded(2, 3, 4), op="Transpose")


@pytest.mark.parametrize("axis", [0, -1, 3])
def test_concat_v2(axis: int) -> None:
    kernel = seeded(1, 1, 3, 2, seed=1)
    assert_matches(lambda a, b: tf.concat([tf.nn.conv2d(a, kernel, 1, "SAME"), b, b * 2.0], axis),
                   seeded(1, 3, 3, 3), seeded(1, 3, 3, 2, seed=2), op="ConcatV2")


def test_concat_with_a_constant() -> None:
    plane = seeded(1, 2, 2, 1, seed=3)
    assert_matches(lambda a: tf.concat([a, plane], axis=-1), seeded(1, 2, 2, 3), op="ConcatV2")


def test_pack_unpack() -> None:
    assert_matches(lambda a, b: tf.stack([a, b], axis=1), seeded(2, 3), seeded(2, 3, seed=1), op="Pack")
    assert_matches(lambda a: tf.unstack(a, axis=1)[2] * 3.0, seeded(2, 4, 3), op="Unpack")


def test_split_and_split_v() -> None:
    assert_matches(lambda a: tf.split(a, 2, axis=-1)[1] + 1.0, seeded(2, 3, 4), op="Split")
    assert_matches(lambda a: tf.split(a, [1, 3], axis=1)[1] * 2.0, seeded(2, 4, 3), op="SplitV")


@pytest.mark.parametrize("index", [
    np.s_[:, 1:3], np.s_[..., ::2], np.s_[:, 0], np.s_[:, None, 1:], np.s_[::-1, -2:],
])
def test_strided_slice(index: object) -> None:
    assert_matches(lambda a: a[index] * 1.0, seeded(3, 4, 5), op="StridedSlice")


def test_slice_and_tile() -> None:
    assert_matches(lambda a: tf.slice(a, [0, 1, 0], [2, 2, -1]) + 0.5, seeded(2, 4, 3), op="Slice")
    assert_matches(lambda a: tf.tile(a, [2, 1, 3]), seeded(2, 3, 2), op="Tile")


def test_space_to_depth_and_back() -> None:
    assert_matches(lambda a: tf.nn.space_to_depth(a, 2), seeded(1, 4, 6, 3), op="SpaceToDepth")
    assert_matches(lambda a: tf.nn.depth_to_space(a, 2), seeded(1, 2, 3, 8), op="DepthToSpace")
