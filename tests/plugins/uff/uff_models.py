"""Small UFF graphs built with our writer, shared by the format and importer tests."""
from __future__ import annotations

import numpy as np

from trtforge_uff.format.builder import UffBuilder


def conv_net(seed: int = 0):
    """NHWC input -> Conv(same, +bias) -> Relu -> MaxPool -> Flatten... a small classifier."""
    rng = np.random.default_rng(seed)
    b = UffBuilder()
    x = b.input("input", [1, 8, 8, 3])
    w = b.const("conv/weights", rng.standard_normal((3, 3, 3, 4)).astype(np.float32))
    y = b.conv("conv/Conv2D", x, w, strides=[1, 1], padding="same", dilation=[1, 1])
    bias = b.const("conv/bias", rng.standard_normal(4).astype(np.float32))
    y = b.binary("conv/BiasAdd", y, bias, "add")
    y = b.activation("conv/Relu", y, "relu")
    y = b.pool("pool", y, "max", kernel=[2, 2], strides=[2, 2], padding="valid")
    y = b.reshape("flat", y, b.const("flat/shape", np.array([1, 64], np.int32)))
    fw = b.const("fc/weights", rng.standard_normal((64, 5)).astype(np.float32))
    y = b.fully_connected("fc/MatMul", y, fw)
    y = b.softmax("prob", y, axis=-1)
    b.mark_output(y)
    return b.meta()
