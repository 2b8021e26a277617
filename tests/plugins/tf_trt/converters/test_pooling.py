from __future__ import annotations

import pytest
import tensorflow as tf

from tftrt_harness import assert_matches, seeded


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("kind", ["MaxPool", "AvgPool"])
def test_pool(kind: str, padding: str) -> None:
    fn = tf.nn.max_pool2d if kind == "MaxPool" else tf.nn.avg_pool2d
    assert_matches(lambda x: fn(x, 3, 2, padding), seeded(2, 7, 7, 3), op=kind)
