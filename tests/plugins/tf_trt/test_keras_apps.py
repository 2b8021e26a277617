"""Keras applications (random weights, batch-norm statistics from a random batch) convert
through tf_trt with every node converted and pass check at fp32 and fp16."""
from __future__ import annotations

import numpy as np
import pytest

import trtforge
from trtforge_zoo import models as zoo
from trtforge.verify.checking import check


@pytest.mark.slow
@pytest.mark.parametrize("name", ["MobileNetV2", "EfficientNetB0"])
def test_keras_application(name: str) -> None:
    import keras

    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(weights=None, input_shape=(64, 64, 3), classes=10,
                                              classifier_activation=None)
    rng = np.random.default_rng(0)
    zoo.set_keras_batchnorm_statistics(model, rng.standard_normal((8, 64, 64, 3)).astype(np.float32) * 50)
    x = rng.standard_normal((1, 64, 64, 3)).astype(np.float32) * 50
    for precision in ("fp32", "fp16"):
        engine = trtforge.convert(model, backend="tf_trt", precision=precision, target="sm89", cache=False)
        assert engine.extras["artifacts"]["tf_trt_coverage"]["complete"]
        report = check(model, engine, inputs=[x])
        assert report.passed, (precision, [o.to_dict() for o in report.outputs])
