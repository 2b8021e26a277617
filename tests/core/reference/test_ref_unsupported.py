"""A layer type the executor cannot run is named, with its layer, before anything runs."""
from __future__ import annotations

import numpy as np
import pytest
from ref_harness import constant, snapshot_of

from trtforge.errors import CheckError
from trtforge.reference import Executor, supported_layer_types, unsupported_layers


def test_unsupported_layer_types_are_listed_by_layer_and_type() -> None:
    x = np.arange(6, dtype=np.float32).reshape(2, 3)

    def build(net, trt, t):
        k = t["_keep"]
        hot = net.add_one_hot(constant(net, trt, k, np.array([0, 2], np.int32)),
                              constant(net, trt, k, np.array([0.0, 1.0], np.float32)),
                              constant(net, trt, k, np.array(3, np.int32)), -1)
        hot.name = "one_hot"
        nonzero = net.add_non_zero(t["x"])
        nonzero.name = "where_nonzero"
        return [hot.get_output(0), nonzero.get_output(0)]

    snap = snapshot_of({"x": x}, build)
    assert unsupported_layers(snap) == ["one_hot (ONE_HOT)", "where_nonzero (NON_ZERO)"]
    with pytest.raises(CheckError) as info:
        Executor(snap)
    assert "one_hot (ONE_HOT)" in info.value.message
    assert "where_nonzero (NON_ZERO)" in info.value.message
    assert "CONVOLUTION" in (info.value.hint or "")


def test_every_layer_type_the_issue_lists_has_an_executor() -> None:
    listed = {"CONVOLUTION", "DECONVOLUTION", "ACTIVATION", "POOLING", "SCALE", "ELEMENTWISE", "UNARY",
              "SHUFFLE", "CONCATENATION", "SLICE", "REDUCE", "MATRIX_MULTIPLY", "SOFTMAX", "CONSTANT",
              "CAST", "IDENTITY", "GATHER", "SHAPE", "SQUEEZE", "UNSQUEEZE", "PADDING", "RESIZE", "SELECT",
              "FILL", "TOPK", "QUANTIZE", "DEQUANTIZE", "NORMALIZATION", "PARAMETRIC_RELU", "LRN",
              "EINSUM", "ASSERTION"}
    assert listed <= set(supported_layer_types())
