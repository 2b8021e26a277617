from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tftrt_harness import assert_matches, seeded

rng = np.random.default_rng(0)
GAMMA, BETA = (1 + 0.1 * rng.standard_normal(4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
MEAN, VAR = rng.standard_normal(4).astype(np.float32), (1 + rng.random(4)).astype(np.float32)


@pytest.mark.parametrize("version", ["FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"])
@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_fused_batch_norm(version: str, precision: str) -> None:
    op = getattr(tf.raw_ops, version)

    def fn(x: tf.Tensor) -> tf.Tensor:
        return op(x=x, scale=GAMMA, offset=BETA, mean=MEAN, variance=VAR, epsilon=1e-3,
                  is_training=False)[0]

    assert_matches(fn, seeded(2, 5, 5, 4), op=version, precision=precision)


def test_bias_add() -> None:
    assert_matches(lambda x: tf.nn.bias_add(x, BETA), seeded(2, 3, 3, 4), op="BiasAdd")
    assert_matches(lambda x: tf.nn.bias_add(x, BETA), seeded(2, 4), op="BiasAdd")
