"""A model with an op no converter handles becomes a hybrid program: TensorRT engines for the
convertible segments, a TensorFlow GraphDef stage for the rest; check passes against
TensorFlow, and the program saves and loads (its TensorFlow stage as a .pb)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorflow as tf

import trtforge
from trtforge.verify.checking import check
from trtforge.errors import UnsupportedOperationsError
from trtforge.program import Program

from tftrt_harness import graph_of, seeded

K1, K2 = seeded(3, 3, 3, 8, seed=1, scale=0.3), seeded(3, 3, 8, 8, seed=2, scale=0.2)
W = seeded(8, 4, seed=3)


def _model(x: tf.Tensor) -> dict[str, tf.Tensor]:
    y = tf.nn.relu(tf.nn.conv2d(x, K1, 1, "SAME"))
    y = tf.nn.relu(tf.nn.conv2d(y, K2, 1, "SAME")) + 1.0
    y = tf.math.cumsum(y, axis=1)  # no converter: TensorFlow runs it
    y = tf.nn.relu(tf.nn.conv2d(y, K2, 1, "SAME"))
    parts = tf.split(tf.nn.relu(tf.nn.conv2d(y, K2, 2, "SAME")), 2, axis=-1)
    y = tf.concat([tf.linalg.svd(parts[0], compute_uv=False), tf.reduce_mean(parts[1], axis=1)], -1)
    return {"logits": tf.matmul(tf.reduce_mean(y, axis=1), W)}


@pytest.fixture(scope="module")
def graph_def() -> Any:
    return graph_of(_model, seeded(1, 8, 8, 3))


def _convert(graph_def: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("min_block_size", 2)
    return trtforge.convert(graph_def, backend="tf_trt", target="sm89", cache=False, **kwargs)


def test_unconvertible_ops_run_in_tensorflow_stages(graph_def: Any, tmp_path: Path) -> None:
    program = _convert(graph_def)
    assert isinstance(program, Program)
    kinds = [s.kind for s in program.stages]
    assert kinds.count("tensorrt") >= 2 and "tensorflow.graphdef" in kinds
    framework_ops = program.fallback_report["framework_ops"]
    assert any(op.startswith("Cumsum") for op in framework_ops)
    assert any(op.startswith("Svd") for op in framework_ops)
    x = seeded(1, 8, 8, 3, seed=9)
    report = check(graph_def, program, inputs=[x])
    assert report.passed, [o.to_dict() for o in report.outputs]
    saved = program.save(tmp_path / "program")
    assert any(p.suffix == ".pb" for p in saved.iterdir())
    loaded = Program.load(saved, check_compatibility=False)
    assert check(graph_def, loaded, inputs=[x]).passed
    (output,) = [o["name"] for o in loaded.outputs]
    reference = loaded.run([x], device="reference")
    assert np.allclose(reference[output], program.run([x], device="reference")[output])


def test_fallback_never_lists_every_unsupported_node(graph_def: Any) -> None:
    with pytest.raises(UnsupportedOperationsError) as caught:
        _convert(graph_def, fallback="never")
    text = " ".join(caught.value.unsupported)
    assert "Cumsum" in text and "Svd" in text


def test_deny_list_forces_ops_into_tensorflow() -> None:
    graph_def = graph_of(lambda x: tf.nn.relu(tf.nn.conv2d(x, K1, 1, "SAME")) * 2.0, seeded(1, 6, 6, 3))
    program = _convert(graph_def, framework_ops=["Relu"], min_block_size=1)
    assert isinstance(program, Program) and "tensorflow.graphdef" in [s.kind for s in program.stages]
    assert program.fallback_report["forced"]
    assert check(graph_def, program, inputs=[seeded(1, 6, 6, 3, seed=4)]).passed


def test_fp16_program(graph_def: Any) -> None:
    program = _convert(graph_def, precision="fp16")
    assert program.precision == "fp16"
    assert check(graph_def, program, inputs=[seeded(1, 8, 8, 3, seed=5)]).passed
