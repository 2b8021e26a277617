"""The TensorFlow seed models (zoo model1-3) convert through tf_trt with every node converted
(no fallback) and pass trtforge.check against TensorFlow at fp32 and fp16."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

import trtforge
from trtforge_zoo import models as zoo
from trtforge.verify.checking import check

SEEDS = ["model1", pytest.param("model2", marks=pytest.mark.slow), "model3"]


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
@pytest.mark.parametrize("name", SEEDS)
def test_seed_model_converts_fully_and_passes_check(name: str, precision: str,
                                                    seed_model: Callable[[str], zoo.ZooModel]) -> None:
    m = seed_model(name)
    engine = trtforge.convert(m.model, backend="tf_trt", precision=precision, target="sm89", cache=False)
    assert engine.route == "tf_trt" and engine.precision == precision
    coverage = engine.extras["artifacts"]["tf_trt_coverage"]
    assert coverage["complete"] and all(n["converter"] for n in coverage["nodes"])
    assert [i["name"] for i in engine.metadata["inputs"]] == [t.name for t in m.inputs]
    assert [o["name"] for o in engine.metadata["outputs"]] == [t.name for t in m.outputs]
    report = check(m.model, engine, inputs=[m.example])
    assert report.passed, [o.to_dict() for o in report.outputs]
    assert check(m.model, engine).passed  # seeded random inputs too


def test_model3_keeps_uint8_input_and_nhwc_boundary(seed_model: Callable[[str], zoo.ZooModel]) -> None:
    m = seed_model("model3")
    engine = trtforge.convert(m.model, backend="tf_trt", target="sm89", cache=False)
    (image,) = engine.metadata["inputs"]
    assert image["dtype"] == "uint8" and image["shape"] == [1, 32, 32, 3]
    # NHWC at the boundary, NCHW inside: exactly one layout transpose, after the input.
    assert any("1 layout transpose(s)" in n for n in engine.metadata["notes"])


def test_dynamic_batch_profile(seed_model: Callable[[str], zoo.ZooModel]) -> None:
    m = seed_model("model1")
    spec = trtforge.InputSpec("input:0", min=(1, 32, 32, 3), opt=(2, 32, 32, 3), max=(4, 32, 32, 3))
    engine = trtforge.convert(m.model, backend="tf_trt", target="sm89", cache=False, inputs=[spec])
    assert engine.metadata["inputs"][0]["shape"] == [-1, 32, 32, 3]
    x = np.concatenate([m.example, m.example * 0.5, -m.example])
    assert check(m.model, engine, inputs=[x]).passed
