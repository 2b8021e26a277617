"""Every preparation pass changes what it says and keeps the outputs (onnxruntime, rel <= 1e-5)."""
from __future__ import annotations

import io
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtforge.errors import UsageError
from trtforge_onnx_trt import passes
from trtforge_onnx_trt.backend import OnnxTrtBackend

from .conftest import max_rel_error, run_onnx


def _model(graph: Any, opset: int = 17) -> Any:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8  # what onnxruntime reads, whatever the installed onnx writes by default
    return model


def _check_pass(name: str, model: Any, feeds: dict[str, np.ndarray]) -> tuple[Any, str]:
    before = run_onnx(model, feeds)
    item = next(p for p in passes.PASSES if p.name == name)
    changed, change = item.run(onnx.load_from_string(model.SerializeToString()))
    onnx.checker.check_model(changed)
    after = run_onnx(changed, feeds)
    assert len(before) == len(after)
    for b, a in zip(before, after):
        assert max_rel_error(a, b) <= 1e-5
    return changed, change


def _view_flatten_cnn() -> Any:
    """A small CNN flattening with x.view(x.size(0), -1), exported by the TorchScript exporter
    with a dynamic batch: the graph holds the seed's Shape->Gather->Unsqueeze->Concat->Reshape."""
    import torch

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.fc = torch.nn.Linear(4 * 8 * 8, 5)

        def forward(self, x: Any) -> Any:
            x = torch.relu(self.conv(x))
            x = x.view(x.size(0), -1)
            return self.fc(x)

    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.onnx.export(Net().eval(), (torch.randn(2, 3, 8, 8),), buffer, dynamo=False, opset_version=17,
                      input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}},
                      do_constant_folding=True)
    return onnx.load_from_string(buffer.getvalue())


def test_fold_flatten_shape_removes_the_seed_pattern() -> None:
    model = _view_flatten_cnn()
    assert {"Shape", "Gather", "Unsqueeze", "Concat"} <= {n.op_type for n in model.graph.node}
    x = np.random.default_rng(0).standard_normal((3, 3, 8, 8)).astype(np.float32)
    folded, change = _check_pass("fold-flatten-shape", model, {"x": x})
    assert "folded 1 Reshape" in change and "[0, -1]" in change
    assert not {"Shape", "Gather", "Unsqueeze", "Concat"} & {n.op_type for n in folded.graph.node}
    # the batch stays dynamic: another batch size runs too
    run_onnx(folded, {"x": x[:1]})


def test_fold_flatten_shape_leaves_a_reordering_reshape_alone() -> None:
    """Copying dimension 1 to position 0 cannot be written as a 0: not folded."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["d0", "d1"])
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "one"], ["d1"], axis=0),
        helper.make_node("Unsqueeze", ["d1", "axes0"], ["d1u"]),
        helper.make_node("Concat", ["d1u", "minus1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"]),
    ]
    inits = [numpy_helper.from_array(np.array(1, np.int64), "one"),
             numpy_helper.from_array(np.array([0], np.int64), "axes0"),
             numpy_helper.from_array(np.array([-1], np.int64), "minus1")]
    model = _model(helper.make_graph(nodes, "g", [x], [y], inits))
    feeds = {"x": np.arange(12, dtype=np.float32).reshape(2, 6)}
    _, change = _check_pass("fold-flatten-shape", model, feeds)
    assert change == ""


def test_remove_dead_nodes_bypasses_identities_and_drops_dead_branches() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    nodes = [
        helper.make_node("Identity", ["x"], ["i1"], name="id1"),
        helper.make_node("Relu", ["i1"], ["r"], name="relu"),
        helper.make_node("Identity", ["r"], ["i2"], name="id2"),
        helper.make_node("Exp", ["i2"], ["dead"], name="dead_exp"),
        helper.make_node("Mul", ["i2", "w"], ["y"], name="mul"),
    ]
    inits = [numpy_helper.from_array(np.full((2, 3), 2.0, np.float32), "w"),
             numpy_helper.from_array(np.zeros(7, np.float32), "unused")]
    model = _model(helper.make_graph(nodes, "g", [x], [y], inits))
    feeds = {"x": np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)}
    cleaned, change = _check_pass("remove-dead-nodes", model, feeds)
    assert "bypassed 2 Identity" in change and "1 dead node(s) (Exp x1)" in change
    assert "1 unused initializer" in change
    assert [n.op_type for n in cleaned.graph.node] == ["Relu", "Mul"]


def test_onnxslim_folds_constants() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["d0", "d1"])
    nodes = [
        helper.make_node("Add", ["a", "b"], ["ab"], name="const_add"),  # constant subgraph
        helper.make_node("Mul", ["ab", "b"], ["abb"], name="const_mul"),
        helper.make_node("Mul", ["x", "abb"], ["y"], name="mul"),
    ]
    inits = [numpy_helper.from_array(np.full((2, 3), 1.5, np.float32), "a"),
             numpy_helper.from_array(np.full((2, 3), 0.5, np.float32), "b")]
    model = _model(helper.make_graph(nodes, "g", [x], [y], inits))
    feeds = {"x": np.random.default_rng(2).standard_normal((2, 3)).astype(np.float32)}
    slimmed, change = _check_pass("onnxslim", model, feeds)
    assert "3 -> 1 nodes" in change
    assert [n.op_type for n in slimmed.graph.node] == ["Mul"]
    assert [d.dim_value for d in slimmed.graph.output[0].type.tensor_type.shape.dim] == [2, 3]  # inferred


def test_opset_upgrade_only_when_needed() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["d0", "d1"])
    nodes = [helper.make_node("Unsqueeze", ["x"], ["u"], axes=[0]),  # opset-11 attribute form
             helper.make_node("ReduceSum", ["u"], ["y"], axes=[0], keepdims=0)]
    model = _model(helper.make_graph(nodes, "g", [x], [y]), opset=11)
    feeds = {"x": np.random.default_rng(3).standard_normal((2, 3)).astype(np.float32)}
    upgraded, change = _check_pass("opset-upgrade", model, feeds)
    assert change == "opset 11 -> 17" and passes.default_opset(upgraded) == 17
    _, again = _check_pass("opset-upgrade", upgraded, feeds)
    assert again == ""


def test_passes_are_listed_and_individually_disabled(caplog: pytest.LogCaptureFixture) -> None:
    listed = OnnxTrtBackend().passes()
    assert [name for name, _ in listed] == ["opset-upgrade", "onnxslim", "fold-flatten-shape",
                                             "remove-dead-nodes"]
    assert all(text for _, text in listed)
    model = _view_flatten_cnn()
    caplog.set_level("INFO", logger="trtforge_onnx_trt.passes")
    _, results = passes.run_passes(model, disabled=["onnxslim", "remove-dead-nodes"])
    assert [r.name for r in results] == ["opset-upgrade", "fold-flatten-shape"]
    assert "pass onnxslim: disabled" in caplog.text and "pass fold-flatten-shape: folded" in caplog.text
    with pytest.raises(UsageError, match="unknown pass"):
        passes.run_passes(model, disabled=["no-such-pass"])


def test_onnxslim_failure_is_a_route_failure_auto_moves_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """onnxslim giving up used to raise a UsageError, which stopped backend="auto" at onnx_trt."""
    import onnxslim
    import torch

    import trtforge
    from trtforge.errors import AllRoutesFailedError, ConversionError

    monkeypatch.setattr(onnxslim, "slim", lambda model, *a, **k: None)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU()).eval()
    x = torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ConversionError, match="onnxslim could not process"):
        trtforge.convert(model, backend="onnx_trt", inputs=[x], target="sm89", cache=False)
    try:
        engine = trtforge.convert(model, backend="auto", inputs=[x], target="sm89", cache=False)
    except AllRoutesFailedError as exc:  # no other route for torch modules is installed
        failures = exc.failures
    else:
        assert engine.route != "onnx_trt"
        failures = engine.metadata["fallbacks"]
    assert "onnxslim could not process" in failures["onnx_trt"]


def test_prepared_onnx_is_kept_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The prepared ONNX bytes (all the weights) used to stay on every engine's artifacts."""
    import trtforge

    monkeypatch.delenv("TRTFORGE_KEEP_ONNX", raising=False)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    model = _model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y]))
    engine = trtforge.convert(model, backend="onnx_trt", target="sm89", cache=False)
    assert "onnx" not in engine.extras["artifacts"] and "onnx_passes" in engine.extras["artifacts"]
    kept = trtforge.convert(model, backend="onnx_trt", target="sm89", cache=False,
                            options={"keep_onnx": True})
    assert onnx.load_from_string(kept.extras["artifacts"]["onnx"]).graph.node[0].op_type == "Relu"
    monkeypatch.setenv("TRTFORGE_KEEP_ONNX", "1")
    assert "onnx" in trtforge.convert(model, backend="onnx_trt", target="sm89",
                                      cache=False).extras["artifacts"]
    with pytest.raises(UsageError, match="keep_onnx must be true or false"):
        trtforge.convert(model, backend="onnx_trt", target="sm89", cache=False,
                         options={"keep_onnx": "maybe"})
