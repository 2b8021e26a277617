"""Build a small TF1 graph, write it as UFF, build it with TensorRT, check against TensorFlow."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

TARGET = "sm89"


def graph_of(build: Callable[[Any, Any], Any], shapes: dict[str, list[int]]) -> Any:
    """``build(tf, placeholders) -> output tensor(s)``; outputs are named ``out<k>``."""
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        placeholders = {n: tf.compat.v1.placeholder(tf.float32, s, name=n) for n, s in shapes.items()}
        outs = build(tf, placeholders)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        for k, out in enumerate(outs):
            tf.identity(out, name=f"out{k}")
    return graph.as_graph_def(), [f"out{k}" for k in range(len(outs))]


def uff_and_check(
    tmp_path: Path,
    build: Callable[[Any, Any], Any],
    shapes: dict[str, list[int]],
    *,
    seed: int = 0,
    inputs: Any = None,
    precision: str = "fp32",
) -> Any:
    import trtforge
    from trtforge.verify.checking import FrozenGraphRunner

    from trtforge_uff.format import io, validate
    from trtforge_uff.tf2uff.convert import graphdef_to_uff

    graph_def, outputs = graph_of(build, shapes)
    result = graphdef_to_uff(graph_def, list(shapes), outputs)
    assert validate.problems(result.meta) == []
    path = io.write(result.meta, tmp_path / "model.uff")
    engine = trtforge.convert(
        path, backend="uff", cache=False, target=TARGET, inputs=inputs, precision=precision
    )
    rng = np.random.default_rng(seed)
    feeds = {
        n: rng.standard_normal([1 if d < 0 else d for d in s]).astype(np.float32) for n, s in shapes.items()
    }
    report = trtforge.check(FrozenGraphRunner(graph_def), engine, feeds)
    assert report.passed, [m.to_dict() for m in report.outputs]
    return engine, report, result


def weights(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)
