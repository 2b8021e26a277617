"""The snapshot does not trust TensorRT's weight read-back blindly.

On TensorRT 8.6 (H200, 2026-12-02) ``layer.kernel`` of a parsed ResNet18 returned arrays that
differ from the ONNX initializers (conv1: max difference 0.12 on weights of ~0.02) although the
engine built from the network was right (4.8e-6 from PyTorch); the parser was alive. The
snapshot, and everything rebuilt or checked from it, returned about the fc bias alone. The
route hands core the weights it gave the parser and core checks the read-back against them.
TensorRT-RTX reads back right, so here the 8.6 read-back is simulated by corrupting it.
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import trtforge
from trtforge.reference import execute
from trtforge.verify.snapshot import Snapshot, engine_snapshot, reconcile_weights
from trtforge_onnx_trt.parse import HandedWeights


def _conv_fc_onnx(path: Path) -> onnx.ModelProto:
    rng = np.random.default_rng(3)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 5])
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n) for n, s in
             (("conv.w", (4, 3, 3, 3)), ("conv.b", (4,)), ("fc.w", (5, 144)), ("fc.b", (5,)))]
    inits.append(numpy_helper.from_array(np.array([2, 144], np.int64), "flat"))
    nodes = [helper.make_node("Conv", ["x", "conv.w", "conv.b"], ["c"], name="/conv/Conv"),
             helper.make_node("Relu", ["c"], ["r"], name="/relu/Relu"),
             helper.make_node("Reshape", ["r", "flat"], ["f"], name="/flat/Reshape"),
             helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["y"], name="/fc/Gemm", transB=1)]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return model


def _converted(tmp_path: Path) -> tuple[onnx.ModelProto, trtforge.Engine, Snapshot, dict[str, np.ndarray]]:
    model = _conv_fc_onnx(tmp_path / "m.onnx")
    engine = trtforge.convert(str(tmp_path / "m.onnx"), backend="onnx_trt", target="sm89", cache=False,
                              options={"keep_onnx": True})
    snap = engine_snapshot(engine)
    assert snap is not None
    x = {"x": np.random.default_rng(4).standard_normal((2, 3, 8, 8)).astype(np.float32)}
    return onnx.load_from_string(engine.extras["artifacts"]["onnx"]), engine, snap, x


def _garbled(snap: Snapshot) -> Snapshot:
    """What 8.6 read back: arrays of the right size and type with other values."""
    rng = np.random.default_rng(5)
    weights = {k: (rng.standard_normal(v.shape).astype(v.dtype) if v.dtype.kind == "f" else v)
               for k, v in snap.weights.items()}
    return Snapshot(graph=copy.deepcopy(snap.graph), weights=weights)


def test_a_right_read_back_is_kept_as_read(tmp_path: Path) -> None:
    prepared, engine, snap, _ = _converted(tmp_path)
    assert not any("read back" in note for note in engine.metadata["notes"]), engine.metadata["notes"]
    kept, remark = reconcile_weights(snap, HandedWeights(prepared), "onnx_trt")
    assert kept is snap and remark is None


def test_a_wrong_read_back_is_replaced_by_the_weights_the_parser_was_given(tmp_path: Path) -> None:
    prepared, _, snap, x = _converted(tmp_path)
    want = execute(snap, x)["y"]
    garbled = _garbled(snap)
    assert not np.allclose(execute(garbled, x)["y"], want)
    fixed, remark = reconcile_weights(garbled, HandedWeights(prepared), "onnx_trt")
    assert fixed is not None and remark is not None and "/conv/Conv.kernel" in remark, remark
    for key, value in snap.weights.items():
        np.testing.assert_array_equal(fixed.weights[key], value)
    np.testing.assert_array_equal(execute(fixed, x)["y"], want)


def test_a_wrong_read_back_with_weights_nobody_can_check_drops_the_snapshot(tmp_path: Path) -> None:
    prepared, _, snap, _ = _converted(tmp_path)
    handed = dict(HandedWeights(prepared).items())
    del handed["/conv/Conv"]  # as the parser's own weights (e.g. a batch norm it folded)
    dropped, remark = reconcile_weights(_garbled(snap), handed, "onnx_trt")
    assert dropped is None
    assert remark is not None and remark.startswith("no network snapshot") and "/conv/Conv (CONVOLUTION.kernel)" in remark
