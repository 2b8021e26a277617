"""Snapshots: read back real networks, save/load, and replay them into networks that build."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trtforge.errors import EngineFileError
from trtforge.verify.snapshot import Snapshot, find_snapshot, replay, take_snapshot
from trtforge.conversion.specs import InputSpec


def _hand_built(tensorrt: Any) -> tuple[Any, tuple[np.ndarray, ...]]:
    """The network and the arrays its Weights point into (TensorRT does not copy them)."""
    trt = tensorrt.module
    rng = np.random.default_rng(0)
    net = tensorrt.create_network()
    x = net.add_input("x", trt.float32, (1, 3, 16, 16))
    kernel = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    bias = rng.standard_normal(8).astype(np.float32)
    conv = net.add_convolution_nd(x, 8, (3, 3), trt.Weights(kernel), trt.Weights(bias))
    conv.padding_nd = (1, 1)
    conv.stride_nd = (2, 2)
    conv.name = "conv"
    act = net.add_activation(conv.get_output(0), trt.ActivationType.LEAKY_RELU)
    act.alpha = 0.1
    pool = net.add_pooling_nd(act.get_output(0), trt.PoolingType.AVERAGE, (2, 2))
    pool.stride_nd = (2, 2)
    shuffle = net.add_shuffle(pool.get_output(0))
    shuffle.reshape_dims = (1, -1)
    weights = rng.standard_normal((10, 128)).astype(np.float32)
    const = net.add_constant((10, 128), trt.Weights(weights))
    mm = net.add_matrix_multiply(shuffle.get_output(0), trt.MatrixOperation.NONE,
                                 const.get_output(0), trt.MatrixOperation.TRANSPOSE)
    half = net.add_cast(mm.get_output(0), trt.float16)
    soft = net.add_softmax(half.get_output(0))
    soft.axes = 1 << 1
    soft.get_output(0).name = "probs"
    net.mark_output(soft.get_output(0))
    return net, (kernel, bias, weights)


def test_snapshot_reads_layers_attributes_and_weights(tensorrt: Any) -> None:
    net, _arrays = _hand_built(tensorrt)
    snap = take_snapshot(net, tensorrt)
    types = [layer["type"] for layer in snap.layers]
    assert types == ["CONVOLUTION", "ACTIVATION", "POOLING", "SHUFFLE", "CONSTANT",
                     "MATRIX_MULTIPLY", "CAST", "SOFTMAX"]
    conv = snap.layers[0]
    assert conv["name"] == "conv"
    assert conv["attrs"]["stride_nd"] == [2, 2] and conv["attrs"]["pre_padding"] == [1, 1]
    assert snap.weight(conv["attrs"]["kernel"]).shape == (8 * 3 * 3 * 3,)
    assert snap.layers[1]["attrs"]["kind"] == "LEAKY_RELU"
    assert snap.layers[1]["attrs"]["alpha"] == pytest.approx(0.1)
    assert snap.layers[6]["outputs"][0]["dtype"] == "float16"
    assert snap.outputs == [{"name": "probs", "dtype": "float16", "shape": [1, 10], "shape_tensor": False}]


def _assert_same(a: Snapshot, b: Snapshot) -> None:
    assert a.json_bytes() == b.json_bytes()
    assert sorted(a.weights) == sorted(b.weights)
    for key in a.weights:
        assert a.weights[key].dtype == b.weights[key].dtype
        np.testing.assert_array_equal(a.weights[key], b.weights[key])


def test_replay_round_trip_hand_built_and_both_build(tensorrt: Any, sm89: str) -> None:
    original, _arrays = _hand_built(tensorrt)
    first = take_snapshot(original, tensorrt)
    replayed = replay(first, tensorrt)
    _assert_same(first, take_snapshot(replayed.network, tensorrt))
    assert tensorrt.build(original, target=sm89).plan
    assert tensorrt.build(replayed.network, target=sm89).plan


def _onnx_network(tensorrt: Any, tmp_path: Path) -> Any:
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 6, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(6)
            self.fc = torch.nn.Linear(6 * 4 * 4, 5)

        def forward(self, x: Any) -> Any:
            y = torch.nn.functional.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
            y = torch.cat([y[:, :3], y[:, 3:] * 2], dim=1)
            return self.fc(y.view(y.size(0), -1))

    torch.manual_seed(0)
    path = tmp_path / "net.onnx"
    torch.onnx.export(Net().eval(), torch.randn(2, 3, 8, 8), str(path), input_names=["x"],
                      output_names=["y"], opset_version=13, dynamic_axes={"x": {0: "n"}, "y": {0: "n"}},
                      dynamo=False)
    network = tensorrt.create_network()
    parser = tensorrt.create_onnx_parser(network)
    assert parser.parse(path.read_bytes())
    return network


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_replay_round_trip_onnx_parser_network_with_dynamic_batch(tensorrt: Any, tmp_path: Path,
                                                                   sm89: str) -> None:
    network = _onnx_network(tensorrt, tmp_path)
    profile = InputSpec("x", min=(1, 3, 8, 8), opt=(2, 3, 8, 8), max=(4, 3, 8, 8))
    first = take_snapshot(network, tensorrt, profiles=[profile])
    assert {"SHAPE", "GATHER", "CONCATENATION", "SHUFFLE", "SLICE"} <= set(first.summary())
    assert first.profiles == [profile.to_dict()]
    replayed = replay(first, tensorrt)
    _assert_same(first, take_snapshot(replayed.network, tensorrt, profiles=[profile]))
    assert tensorrt.build(replayed.network, inputs=[profile], target=sm89).plan


def test_save_load_and_find_beside_engine(tensorrt: Any, tmp_path: Path) -> None:
    net, _arrays = _hand_built(tensorrt)
    snap = take_snapshot(net, tensorrt)
    graph_path, weights_path = snap.save(tmp_path / "model.engine")
    assert graph_path.name == "model.engine.snapshot.json"
    assert weights_path.name == "model.engine.snapshot.npz"
    _assert_same(snap, Snapshot.load(tmp_path / "model.engine"))
    _assert_same(snap, Snapshot.load(graph_path))
    _assert_same(snap, find_snapshot(tmp_path / "model.engine"))
    assert find_snapshot(tmp_path / "other.engine") is None


def test_corrupt_or_missing_snapshot_files_are_refused(tensorrt: Any, tmp_path: Path) -> None:
    net, _arrays = _hand_built(tensorrt)
    snap = take_snapshot(net, tensorrt)
    graph_path, weights_path = snap.save(tmp_path / "m.engine")
    graph_path.write_text("{not json")
    with pytest.raises(EngineFileError, match="not valid JSON"):
        Snapshot.load(graph_path)
    graph_path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(EngineFileError, match="not a trtforge network snapshot"):
        Snapshot.load(graph_path)
    snap.save(tmp_path / "m.engine")
    weights_path.write_bytes(b"garbage")
    with pytest.raises(EngineFileError, match="weights cannot be read"):
        Snapshot.load(graph_path)
    with pytest.raises(EngineFileError, match="no snapshot file"):
        Snapshot.load(tmp_path / "absent.engine")
