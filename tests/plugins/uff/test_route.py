"""The uff route through trtforge.convert: discovery, options, errors, dynamic inputs."""

from __future__ import annotations

import numpy as np
import pytest

import trtforge
from trtforge.plugin.backends import registry
from trtforge.errors import ConversionError, ModelSourceError, UnsupportedOperationsError, UsageError

from trtforge_uff.format import io
from trtforge_uff.format.builder import UffBuilder

from uff_models import conv_net

TARGET = "sm89"


def test_backend_is_registered_and_takes_uff_files(tmp_path):
    from trtforge.models.sources import detect

    entry = registry().get("uff")
    assert entry.plugin == "uff" and entry.backend.is_available()
    path = io.write(conv_net(), tmp_path / "net.uff")
    source = detect(path)
    assert source.kind == "uff-file" and entry.backend.accepts(source)


def test_convert_uff_file_and_run_the_network(tmp_path):
    from trtforge.reference import Executor
    from trtforge.verify.snapshot import engine_snapshot

    path = io.write(conv_net(), tmp_path / "net.uff")
    engine = trtforge.convert(path, backend="uff", cache=False, target=TARGET)
    out = Executor(engine_snapshot(engine)).run({"input": np.ones((1, 8, 8, 3), np.float32)}).numpy()
    assert out["prob"].shape == (1, 5) and out["prob"].sum() == pytest.approx(1.0, abs=1e-5)
    assert any("13 nodes" in n for n in engine.metadata["notes"])


def test_text_form_converts_too(tmp_path):
    from trtforge.models.sources import detect

    path = io.write(conv_net(), tmp_path / "net.pbtxt")
    assert detect(path).kind == "uff-text"
    engine = trtforge.convert(path, backend="uff", cache=False, target=TARGET)
    assert [o["name"] for o in engine.outputs] == ["prob"]
    other = tmp_path / "graph.pbtxt"
    other.write_text('node {\n  name: "x"\n  op: "Placeholder"\n}\n')
    with pytest.raises(ModelSourceError):
        detect(other)


def test_dynamic_batch_input(tmp_path):
    b = UffBuilder()
    x = b.input("x", [-1, 4])
    y = b.activation("y", b.binary("s", x, b.const("c", np.arange(4, dtype=np.float32)), "add"), "relu")
    b.mark_output(y)
    path = io.write(b.meta(), tmp_path / "dyn.uff")
    fixed = trtforge.convert(path, backend="uff", cache=False, target=TARGET)
    assert any("built for [1, 4]" in n for n in fixed.metadata["notes"])
    dynamic = trtforge.convert(
        path,
        backend="uff",
        cache=False,
        target=TARGET,
        inputs=[trtforge.InputSpec("x", "float32", min=(1, 4), opt=(4, 4), max=(8, 4))],
    )
    assert dynamic.inputs[0]["shape"][0] == -1


def test_malformed_file_lists_every_problem(tmp_path):
    meta = conv_net()
    nodes = {n.id: n for n in meta.graphs[0].nodes}
    del nodes["conv/Conv2D"].fields["strides"]
    nodes["pool"].fields["func"].s = "median"
    path = io.write(meta, tmp_path / "bad.uff")
    with pytest.raises(ModelSourceError) as info:
        trtforge.convert(path, backend="uff", cache=False, target=TARGET)
    assert "2 problem(s)" in info.value.message
    assert "node 'conv/Conv2D' (Conv) field 'strides'" in info.value.message
    assert "node 'pool' (Pool) field 'func'" in info.value.message


def test_unsupported_nodes_reported_all_at_once(tmp_path):
    b = UffBuilder()
    x = b.input("x", [1, 4])
    y = b.plugin("p1", "Mystery_TRT", [x], {"k_u_int": 1})
    y = b.plugin("p2", "Mystery_TRT", [y], {})
    y = b.plugin("q", "Other_TRT", [y], {})
    b.mark_output(y)
    path = io.write(b.meta(), tmp_path / "plugins.uff")
    with pytest.raises(UnsupportedOperationsError) as info:
        trtforge.convert(path, backend="uff", cache=False, target=TARGET)
    assert info.value.unsupported == [
        "_Mystery_TRT x2 (at p1, p2): no converter",
        "_Other_TRT x1 (at q): no converter",
    ]


def test_converter_hook_adds_an_op(tmp_path):
    from trtforge.plugin import plugins
    from trtforge.plugin.hookspecs import hookimpl

    from trtforge_uff.importer.registry import converter

    @converter("_Double_TRT")
    def double(ctx, node, inputs):
        x = ctx.tensor(inputs[0], ctx.sub("x"))
        return ctx.finish(ctx.network.add_elementwise(x, x, ctx.trt.ElementWiseOperation.SUM))

    class Extra:
        @hookimpl
        def register_converters(self, route, register):
            if route == "uff":
                register.converter(double)

    b = UffBuilder()
    b.mark_output(b.plugin("d", "Double_TRT", [b.input("x", [1, 3])], {}))
    path = io.write(b.meta(), tmp_path / "double.uff")
    plugins.register(Extra(), name="uff-test-extra")
    try:
        engine = trtforge.convert(path, backend="uff", cache=False, target=TARGET)
    finally:
        plugins.unregister("uff-test-extra")
    from trtforge.reference import Executor
    from trtforge.verify.snapshot import engine_snapshot

    out = Executor(engine_snapshot(engine)).run({"x": np.array([[1, 2, 3]], np.float32)}).numpy()
    np.testing.assert_allclose(out["d"], [[2, 4, 6]])


def test_options_are_checked(tmp_path):
    path = io.write(conv_net(), tmp_path / "net.uff")
    with pytest.raises(UsageError, match="does not know the option"):
        trtforge.convert(path, backend="uff", cache=False, target=TARGET, options={"opset": 17})
    with pytest.raises(UsageError, match="list of UFF node ids"):
        trtforge.convert(path, backend="uff", cache=False, target=TARGET, options={"outputs": "pool"})
    with pytest.raises(UsageError, match="no nodes of"):
        trtforge.convert(path, backend="uff", cache=False, target=TARGET, options={"outputs": ["nope"]})
    engine = trtforge.convert(
        path, backend="uff", cache=False, target=TARGET, options={"outputs": ["pool", "prob"]}
    )
    assert [o["name"] for o in engine.outputs] == ["pool", "prob"]


def test_reduced_precision_is_refused_clearly(tmp_path):
    path = io.write(conv_net(), tmp_path / "net.uff")
    with pytest.raises(ConversionError, match="fp32 and fp16 networks"):
        trtforge.convert(path, backend="uff", cache=False, target=TARGET, precision="bf16")


def test_computed_shape_inputs_are_reported_before_building(tmp_path):
    b = UffBuilder()
    x = b.input("x", [1, 4])
    y = b.input("y", [2])
    r = b.reshape("r", x, y)
    t = b.transpose(
        "t",
        r,
        b.binary("p", b.const("c", np.array([1, 0], np.int32)), b.const("z", np.zeros(2, np.int32)), "add"),
    )
    b.mark_output(t)
    path = io.write(b.meta(), tmp_path / "computed.uff")
    with pytest.raises(UnsupportedOperationsError) as info:
        trtforge.convert(path, backend="uff", cache=False, target=TARGET)
    assert info.value.unsupported == [
        "Reshape x1 (at r): its shape must be constant (Const nodes), not computed"
    ]
