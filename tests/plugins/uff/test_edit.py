"""Surgery on a UFF file itself (trtforge_uff.format.edit)."""

from __future__ import annotations

import numpy as np
import pytest

import trtforge
from trtforge.errors import UsageError
from trtforge.reference import Executor
from trtforge.verify.snapshot import engine_snapshot

from trtforge_uff.format import edit, io, validate
from trtforge_uff.format.builder import UffBuilder


def _graph():
    b = UffBuilder()
    x = b.input("x", [1, 4])
    y = b.activation("block/relu", x, "relu")
    y = b.binary("block/scale", y, b.const("block/two", np.float32(2.0)), "mul")
    z = b.activation("head/ident_like", y, "relu")
    b.mark_output(b.binary("out", z, x, "add"))
    return b.meta()


def test_collapse_namespace_into_a_plugin_node():
    meta = _graph()
    edit.collapse_namespace(meta, "block", "Block", "_Block_TRT", {"alpha_u_float": 2.0})
    nodes = {n.id: n for n in meta.graphs[0].nodes}
    assert list(nodes["Block"].inputs) == ["x"] and nodes["Block"].operation == "_Block_TRT"
    assert list(nodes["head/ident_like"].inputs) == ["Block"]
    assert not any(n.startswith("block/") for n in nodes)
    assert "custom" in {d.id for d in meta.descriptors}
    assert validate.problems(meta) == []


def test_forward_remove_and_outputs(tmp_path):
    meta = _graph()
    edit.forward_inputs(meta, ["head/ident_like"])
    edit.set_outputs(meta, ["block/scale", "out"])
    assert validate.problems(meta) == []
    path = io.write(meta, tmp_path / "edited.uff")
    engine = trtforge.convert(path, backend="uff", cache=False, target="sm89")
    value = np.array([[-1.0, 0.5, 2.0, -3.0]], np.float32)
    out = Executor(engine_snapshot(engine)).run({"x": value}).numpy()
    np.testing.assert_allclose(out["block/scale"], np.maximum(value, 0) * 2)
    np.testing.assert_allclose(out["out"], np.maximum(value, 0) * 2 + value)
    edit.remove(meta, ["out"])
    assert any("(MarkOutput) field 'inputs': has 0 input(s)" in str(p) for p in validate.problems(meta))
    with pytest.raises(UsageError, match="no node in namespace"):
        edit.collapse_namespace(meta, "nothing", "N", "_N_TRT")
    with pytest.raises(UsageError, match="no UFF node"):
        edit.set_outputs(meta, ["nope"])
