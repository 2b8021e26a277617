"""Every UFF op family: TF graph -> our UFF writer -> our importer -> TensorRT-RTX network,
checked against the same graph run in TensorFlow (CPU reference executor)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tf_harness import uff_and_check, weights  # noqa: E402

RNG = np.random.default_rng(7)


def conv_family(tf, p):
    x = p["x"]
    w = tf.constant(weights(RNG, 3, 3, 4, 6))
    a = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME", dilations=[1, 2, 2, 1])
    b = tf.nn.conv2d(x, w, [1, 2, 2, 1], "VALID")
    c = tf.nn.conv2d(x, w, [1, 1, 1, 1], [[0, 0], [1, 2], [0, 1], [0, 0]])
    d = tf.nn.depthwise_conv2d(x, tf.constant(weights(RNG, 3, 3, 4, 2)), [1, 2, 2, 1], "SAME")
    t = tf.nn.conv2d_transpose(x, tf.constant(weights(RNG, 3, 3, 5, 4)), [1, 16, 16, 5], [1, 2, 2, 1], "SAME")
    return [a, b, c, d, t]


def pool_family(tf, p):
    x = p["x"]
    return [
        tf.nn.max_pool2d(x, 3, 2, "SAME"),
        tf.nn.avg_pool2d(x, 3, 2, "SAME"),
        tf.nn.avg_pool2d(x, 2, 2, "VALID"),
        tf.nn.max_pool2d(x, [2, 3], [1, 2], "VALID"),
    ]


def elementwise_family(tf, p):
    x, y = p["x"], p["y"]
    c = tf.constant(weights(RNG, 4))
    pos = tf.abs(x) + 0.5
    return [
        x + y,
        tf.add_n([x, y, x]),
        x - c,
        x * y,
        x / (tf.abs(y) + 1.0),
        tf.maximum(x, y),
        tf.minimum(x, c),
        tf.pow(pos, 2.0),
        -x,
        tf.exp(x),
        tf.math.log(pos),
        tf.abs(x),
        tf.sqrt(pos),
        tf.math.rsqrt(pos),
        tf.square(x),
        tf.math.reciprocal(pos),
        tf.nn.relu(x),
        tf.nn.relu6(x * 4),
        tf.sigmoid(x),
        tf.tanh(x),
        tf.nn.elu(x),
        tf.nn.selu(x),
        tf.nn.softsign(x),
        tf.nn.softplus(x),
        tf.nn.leaky_relu(x, 0.1),
    ]


def reduce_family(tf, p):
    x = p["x"]
    return [
        tf.reduce_sum(x, [1, 2]),
        tf.reduce_mean(x, [3], keepdims=True),
        tf.reduce_max(x, [1]),
        tf.reduce_min(x, [-1]),
        tf.reduce_prod(x * 0.5 + 1.0, [2]),
        tf.nn.softmax(x),
    ]


def batchnorm_family(tf, p):
    x = p["x"]
    params = [
        tf.constant(v)
        for v in (
            RNG.random(4).astype(np.float32) + 0.5,
            weights(RNG, 4),
            weights(RNG, 4),
            RNG.random(4).astype(np.float32) + 0.5,
        )
    ]
    v3 = tf.raw_ops.FusedBatchNormV3(
        x=x,
        scale=params[0],
        offset=params[1],
        mean=params[2],
        variance=params[3],
        epsilon=1e-3,
        is_training=False,
    )[0]
    v1 = tf.compat.v1.nn.fused_batch_norm(x, *params, epsilon=1e-5, is_training=False)[0]
    return [v3, v1]


def shape_family(tf, p):
    x = p["x"]
    return [
        tf.concat([x, x * 2], axis=3),
        tf.stack([x, -x], axis=1),
        tf.squeeze(x[:, :1], [1]),
        tf.reshape(x, [1, -1]),
        tf.transpose(x, [0, 3, 1, 2]),
        tf.pad(x, [[0, 0], [1, 2], [0, 1], [0, 0]]),
        x[:, 1:7:2, ::-1, 2],
        x[0, -1],
        tf.gather(x, [3, 0, 1], axis=3),
        tf.gather(x, [1, 1], axis=1),
    ]


def fc_family(tf, p):
    flat = tf.reshape(p["x"], [1, 8 * 8 * 4])
    w = weights(RNG, 8 * 8 * 4, 10)
    return [
        tf.matmul(flat, tf.constant(w)),
        tf.matmul(flat, tf.constant(w.T.copy()), transpose_b=True),
        tf.cast(flat, tf.float32) + tf.cast(tf.constant([1], tf.int32), tf.float32),
    ]


FAMILIES = {
    "conv": conv_family,
    "pool": pool_family,
    "elementwise": elementwise_family,
    "reduce": reduce_family,
    "batchnorm": batchnorm_family,
    "shape": shape_family,
    "fc": fc_family,
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_matches_tensorflow(tmp_path, family):
    shapes = {"x": [1, 8, 8, 4]}
    if family == "elementwise":
        shapes["y"] = [1, 8, 8, 4]
    engine, report, result = uff_and_check(tmp_path, FAMILIES[family], shapes)
    assert len(report.outputs) == len(result.outputs) >= 2


@pytest.mark.parametrize("family", ["conv", "elementwise", "reduce", "batchnorm"])
def test_family_in_fp16(tmp_path, family):
    """Strongly typed fp16: float16 tensors inside, float32 inputs and outputs."""
    from trtforge.verify.snapshot import engine_snapshot

    shapes = {"x": [1, 8, 8, 4]}
    if family == "elementwise":
        shapes["y"] = [1, 8, 8, 4]
    engine, report, _ = uff_and_check(tmp_path, FAMILIES[family], shapes, precision="fp16")
    assert report.precision == "fp16"
    snapshot = engine_snapshot(engine)
    dtypes = {out["dtype"] for layer in snapshot.layers for out in layer["outputs"]}
    assert "float16" in dtypes
    assert {o["dtype"] for o in engine.outputs} == {"float32"}
