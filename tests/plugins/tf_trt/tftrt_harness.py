"""Shared harness of the tf_trt tests: a small tf.function frozen into a GraphDef, converted
with the real route and builder, its network run on the CPU reference executor against
TensorFlow (trtforge.check)."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

import trtforge
from trtforge.verify.checking import check

TARGET = "sm89"


def seeded(*shape: int, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def graph_of(fn: Callable[..., Any], *examples: np.ndarray) -> Any:
    """``fn`` traced at the examples' exact shapes and dtypes, frozen (no Grappler, so the op
    under test stays as written)."""
    import tensorflow as tf

    from trtforge.models.tf_graphs import frozen_graph

    specs = [tf.TensorSpec(e.shape, tf.as_dtype(e.dtype), name=f"x{k}") for k, e in enumerate(examples)]
    return frozen_graph(tf.function(fn, input_signature=specs), grappler=False).graph_def


def convert(graph_def: Any, precision: str = "fp32", **kwargs: Any) -> Any:
    options = {"grappler": False, **kwargs.pop("options", {})}
    return trtforge.convert(graph_def, backend="tf_trt", precision=precision, target=TARGET,
                            cache=False, options=options, **kwargs)


def converted_ops(engine: Any) -> list[str]:
    return [n["op"] for n in engine.extras["artifacts"]["tf_trt_coverage"]["nodes"]]


def assert_matches(fn: Callable[..., Any], *examples: np.ndarray, precision: str = "fp32",
                   op: str | None = None, feeds: Sequence[np.ndarray] | None = None) -> Any:
    """Convert ``fn`` and check it on ``feeds`` (default: the examples); ``op``: the op type
    that must have been converted (not folded away)."""
    graph_def = graph_of(fn, *examples)
    engine = convert(graph_def, precision)
    if op is not None:
        assert op in converted_ops(engine), converted_ops(engine)
    report = check(graph_def, engine, inputs=list(feeds if feeds is not None else examples))
    assert report.passed, [o.to_dict() for o in report.outputs]
    return engine


def layer_types(engine: Any) -> list[str]:
    from trtforge.verify.checking import resolve_snapshot

    snapshot, _ = resolve_snapshot(engine)
    return [layer["type"] for layer in snapshot.layers]
