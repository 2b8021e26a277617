"""Every ActivationType and ParametricReLU, from the formulas in TensorRT's documentation."""
from __future__ import annotations

import math

import numpy as np
import pytest
from ref_harness import constant, run

X = np.linspace(-3, 3, 25, dtype=np.float32).reshape(1, 25)
ERF = np.vectorize(math.erf)

FORMULAS = {
    "RELU": lambda x, a, b: np.maximum(x, 0),
    "SIGMOID": lambda x, a, b: 1 / (1 + np.exp(-x)),
    "TANH": lambda x, a, b: np.tanh(x),
    "LEAKY_RELU": lambda x, a, b: np.where(x >= 0, x, a * x),
    "ELU": lambda x, a, b: np.where(x >= 0, x, a * (np.exp(x) - 1)),
    "SELU": lambda x, a, b: b * np.where(x > 0, x, a * (np.exp(x) - 1)),
    "SOFTSIGN": lambda x, a, b: x / (1 + np.abs(x)),
    "SOFTPLUS": lambda x, a, b: a * np.log(np.exp(b * x) + 1),
    "CLIP": lambda x, a, b: np.clip(x, a, b),
    "HARD_SIGMOID": lambda x, a, b: np.clip(a * x + b, 0, 1),
    "SCALED_TANH": lambda x, a, b: a * np.tanh(b * x),
    "THRESHOLDED_RELU": lambda x, a, b: np.where(x > a, x, 0),
    "GELU_ERF": lambda x, a, b: 0.5 * x * (1 + ERF(x / math.sqrt(2))),
    "GELU_TANH": lambda x, a, b: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
}
PARAMS = {"LEAKY_RELU": (0.1, 0.0), "ELU": (0.7, 0.0), "SELU": (1.6733, 1.0507), "SOFTPLUS": (1.5, 0.5),
          "CLIP": (-1.0, 2.0), "HARD_SIGMOID": (0.2, 0.5), "SCALED_TANH": (1.7, 0.66),
          "THRESHOLDED_RELU": (0.5, 0.0)}


@pytest.mark.parametrize("kind", sorted(FORMULAS))
def test_activation(kind: str) -> None:
    alpha, beta = PARAMS.get(kind, (0.0, 0.0))

    def build(net, trt, t):
        layer = net.add_activation(t["x"], getattr(trt.ActivationType, kind))
        layer.alpha, layer.beta = alpha, beta
        return layer.get_output(0)

    (got,) = run({"x": X}, build)
    # TensorRT stores alpha/beta as float32.
    a, b = float(np.float32(alpha)), float(np.float32(beta))
    np.testing.assert_allclose(got, FORMULAS[kind](X.astype(np.float64), a, b), rtol=1e-5, atol=1e-6)


def test_every_activation_type_is_covered() -> None:
    import tensorrt_rtx as trt

    assert set(trt.ActivationType.__members__) == set(FORMULAS)


def test_parametric_relu_broadcasts_the_slope_per_channel() -> None:
    x = np.linspace(-2, 2, 24, dtype=np.float32).reshape(1, 3, 2, 4)
    slope = np.array([0.1, 0.5, 2.0], np.float32).reshape(1, 3, 1, 1)

    def build(net, trt, t):
        return net.add_parametric_relu(t["x"], constant(net, trt, t["_keep"], slope)).get_output(0)

    (got,) = run({"x": x}, build)
    np.testing.assert_allclose(got, np.where(x >= 0, x, slope * x), rtol=1e-6)
