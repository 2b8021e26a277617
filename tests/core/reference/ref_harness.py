"""Build a small real TensorRT network, snapshot it, run the reference executor on it.

Every network built here is also replayed and snapshotted again, so each layer type's
attributes are shown to survive snapshot -> replay -> snapshot unchanged.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from trtforge.reference import execute
from trtforge.verify.snapshot import Snapshot, replay, take_snapshot
from trtforge.tensorrt.trt import get_tensorrt

Build = Callable[[Any, Any, dict[str, Any]], Any]


def network_with(inputs: dict[str, np.ndarray], build: Build, dtypes: dict[str, str] | None = None
                 ) -> tuple[Any, list[np.ndarray]]:
    """``build(net, trt, tensors) -> output tensor(s)``; returns (network, arrays to keep alive)."""
    tensorrt = get_tensorrt()
    trt = tensorrt.module
    net = tensorrt.create_network()
    tensors = {}
    for name, value in inputs.items():
        dtype = (dtypes or {}).get(name) or str(value.dtype).replace("bool", "bool")
        tensors[name] = net.add_input(name, tensorrt.trt_dtype(dtype), value.shape)
    keep: list[np.ndarray] = []
    tensors["_keep"] = keep
    outs = build(net, trt, tensors)
    for i, out in enumerate(outs if isinstance(outs, (list, tuple)) else [outs]):
        out.name = f"out{i}"
        net.mark_output(out)
    return net, keep


def weights(trt: Any, keep: list[np.ndarray], array: np.ndarray) -> Any:
    array = np.ascontiguousarray(array)
    keep.append(array)
    return trt.Weights(array)


def constant(net: Any, trt: Any, keep: list[np.ndarray], array: np.ndarray) -> Any:
    return net.add_constant(array.shape, weights(trt, keep, array)).get_output(0)


def run(inputs: dict[str, np.ndarray], build: Build, dtypes: dict[str, str] | None = None) -> list[np.ndarray]:
    """Outputs of the executor on ``inputs``; asserts the replay round trip on the way."""
    tensorrt = get_tensorrt()
    net, _keep = network_with(inputs, build, dtypes)
    snap = take_snapshot(net, tensorrt)
    again = take_snapshot(replay(snap, tensorrt).network, tensorrt)
    assert again.json_bytes() == snap.json_bytes()
    assert sorted(again.weights) == sorted(snap.weights)
    for key in snap.weights:
        np.testing.assert_array_equal(again.weights[key], snap.weights[key])
    outs = execute(snap, inputs)
    return [outs[f"out{i}"] for i in range(len(outs))]


def snapshot_of(inputs: dict[str, np.ndarray], build: Build) -> Snapshot:
    tensorrt = get_tensorrt()
    net, _keep = network_with(inputs, build)
    return take_snapshot(net, tensorrt)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)
