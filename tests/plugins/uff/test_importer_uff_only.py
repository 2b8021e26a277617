"""Importer paths TF graphs do not reach (Flatten, Squeeze without axes, constant folding,
constant outputs), checked against numpy through the CPU reference executor."""

from __future__ import annotations

import numpy as np

import trtforge
from trtforge.reference import Executor
from trtforge.verify.snapshot import engine_snapshot

from trtforge_uff.format import io
from trtforge_uff.format.builder import UffBuilder


def run(tmp_path, builder, feeds):
    path = io.write(builder.meta(), tmp_path / "m.uff")
    engine = trtforge.convert(path, backend="uff", cache=False, target="sm89")
    return Executor(engine_snapshot(engine)).run(feeds).numpy()


def test_flatten_squeeze_and_folded_constants(tmp_path):
    b = UffBuilder()
    x = b.input("x", [2, 1, 3, 1])
    b.mark_output(b.flatten("flat", x, axis=1))
    b.mark_output(b.squeeze("sq", x, []))
    c = b.concat(
        "cc", [b.const("c1", np.ones((1, 3), np.float32)), b.const("c2", np.zeros((1, 3), np.float32))], 0
    )
    b.mark_output(b.binary("mix", b.reshape("r", x, b.const("shape", np.array([2, 3], np.int32))), c, "mul"))
    b.mark_output(
        b.binary(
            "const_only", b.const("k", np.float32(2.0)), b.const("k2", np.arange(3, dtype=np.float32)), "pow"
        )
    )
    b.mark_output(b.unary("fl", b.binary("fd", x, b.const("two", np.float32(2.0)), "floordiv"), "floor"))
    value = np.arange(6, dtype=np.float32).reshape(2, 1, 3, 1) - 2.5
    out = run(tmp_path, b, {"x": value})
    np.testing.assert_allclose(out["flat"], value.reshape(2, 3))
    np.testing.assert_allclose(out["sq"], value.reshape(2, 3))
    np.testing.assert_allclose(out["mix"], value.reshape(2, 3) * np.array([[1, 1, 1], [0, 0, 0]]))
    np.testing.assert_allclose(out["const_only"], 2.0 ** np.arange(3))
    np.testing.assert_allclose(out["fl"], np.floor(np.floor_divide(value, 2.0)))


def test_gather_with_computed_indices_and_stack(tmp_path):
    b = UffBuilder()
    x = b.input("x", [4, 3])
    idx = b.input("i", [2], dtype="int32")
    b.mark_output(b.gather("g", x, idx, axis=0))
    b.mark_output(b.stack("st", [x, b.const("z", np.zeros((4, 3), np.float32))], axis=2))
    value = np.arange(12, dtype=np.float32).reshape(4, 3)
    out = run(tmp_path, b, {"x": value, "i": np.array([3, 1], np.int32)})
    np.testing.assert_allclose(out["g"], value[[3, 1]])
    np.testing.assert_allclose(out["st"], np.stack([value, np.zeros_like(value)], axis=2))


def test_dynamic_batch_through_shape_ops(tmp_path):
    b = UffBuilder()
    x = b.input("x", [-1, 2, 3])
    s = b.stack("st", [x, x], axis=1)  # [N, 2, 2, 3]
    b.mark_output(b.flatten("flat", s, axis=1))  # [N, 12]
    b.mark_output(b.reduce("sum", x, "sum", [1, 2], keepdims=False))
    path = io.write(b.meta(), tmp_path / "dyn.uff")
    spec = trtforge.InputSpec("x", "float32", min=(1, 2, 3), opt=(2, 2, 3), max=(4, 2, 3))
    engine = trtforge.convert(path, backend="uff", cache=False, target="sm89", inputs=[spec])
    executor = Executor(engine_snapshot(engine))
    for batch in (1, 3):
        value = np.arange(batch * 6, dtype=np.float32).reshape(batch, 2, 3)
        out = executor.run({"x": value}).numpy()
        np.testing.assert_allclose(out["flat"], np.stack([value, value], axis=1).reshape(batch, 12))
        np.testing.assert_allclose(out["sum"], value.sum(axis=(1, 2)))
