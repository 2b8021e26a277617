"""`trtforge build SNAPSHOT`: replay a snapshot into this TensorRT and build it (RTX, sm89)."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trtforge.errors import UnsupportedOperationsError, UsageError
from trtforge.verify.snapshot import Snapshot
from trtforge.verify.snapshot_build import _precision, build_snapshot, unsupported_parts
from trtforge.tensorrt.trt import TrtFacts

PROFILE = "x:1x3x8x8,2x3x8x8,4x3x8x8"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trtforge", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=300)


def _onnx_model(path: Path) -> Path:
    """Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm, seeded weights, dynamic batch."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b"),
             numpy_helper.from_array(rng.standard_normal((5, 4)).astype(np.float32), "fw"),
             numpy_helper.from_array(rng.standard_normal(5).astype(np.float32), "fb")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
             helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The ONNX model and its engine converted with --snapshot by the onnx_trt route."""
    folder = tmp_path_factory.mktemp("snapbuild")
    model = _onnx_model(folder / "tiny.onnx")
    engine = folder / "tiny.engine"
    result = run_cli("convert", str(model), "--backend", "onnx_trt", "--input", PROFILE, "--target",
                     "sm89", "-o", str(engine), "--snapshot", "--no-cache")
    assert result.returncode == 0, result.stderr
    return model, engine


def test_build_from_snapshot_matches_io_and_checks_against_the_source(converted: tuple[Path, Path],
                                                                      tmp_path: Path) -> None:
    model, engine = converted
    out = tmp_path / "rebuilt.engine"
    result = run_cli("build", f"{engine}.snapshot.json", "--target", "sm89", "-o", str(out), "--snapshot")
    assert result.returncode == 0, result.stderr
    first = json.loads(Path(f"{engine}.json").read_text())
    rebuilt = json.loads(Path(f"{out}.json").read_text())
    assert rebuilt["inputs"] == first["inputs"] and rebuilt["outputs"] == first["outputs"]
    assert rebuilt["profiles"] == first["profiles"]
    assert rebuilt["route"] == "onnx_trt" and rebuilt["precision"] == "fp32" and rebuilt["target"] == "sm89"
    assert rebuilt["source"]["fingerprint"] == first["source"]["fingerprint"]
    assert rebuilt["from_snapshot"]["layers"] == first["network"]["layers"]
    assert Path(f"{out}.snapshot.json").is_file()  # the rebuilt network's own snapshot
    check = run_cli("check", str(model), str(out), "--json")
    assert check.returncode == 0, check.stderr + check.stdout
    assert json.loads(check.stdout)["passed"] is True


def test_input_override_and_split_weights(converted: tuple[Path, Path], tmp_path: Path) -> None:
    _, engine = converted
    for suffix in (".snapshot.json", ".snapshot.npz"):
        (tmp_path / f"m.engine{suffix}").write_bytes(Path(f"{engine}{suffix}").read_bytes())
    weights = tmp_path / "m.engine.snapshot.npz"
    # what the README tells users to run to carry a large snapshot in pieces
    split = subprocess.run(["split", "-b", "300", "-d", "-a", "3", str(weights), f"{weights}.part"],
                           capture_output=True, text=True, timeout=120)
    assert split.returncode == 0, split.stderr
    weights.unlink()
    parts = sorted(tmp_path.glob("m.engine.snapshot.npz.part*"))
    assert len(parts) > 2 and not weights.exists()
    built = build_snapshot(tmp_path / "m.engine.snapshot.json", target="sm89",
                           inputs=["x:2x3x8x8,2x3x8x8,3x3x8x8"])
    profile = built.metadata["profiles"][0]["profiles"][0]
    assert profile == {"min": [2, 3, 8, 8], "opt": [2, 3, 8, 8], "max": [3, 3, 8, 8]}
    assert built.metadata["from_snapshot"]["path"].endswith("m.engine.snapshot.json")
    with pytest.raises(UsageError, match="matches no snapshot input"):
        build_snapshot(tmp_path / "m.engine.snapshot.json", target="sm89", inputs=["nope:1x3x8x8"])


def test_other_precision_is_refused_on_strongly_typed_tensorrt(converted: tuple[Path, Path]) -> None:
    _, engine = converted
    result = run_cli("build", f"{engine}.snapshot.json", "--target", "sm89", "--precision", "fp16",
                     "-o", str(engine.with_name("x.engine")))
    assert result.returncode == 2
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert lines[0].startswith("error: ") and "strongly typed" in lines[0] and "fp32" in lines[0]
    assert lines[1].startswith("hint: ")


def test_precision_rules_for_weak_and_strong_typing() -> None:
    weak, strong = TrtFacts.of("tensorrt", "8.6.0"), TrtFacts.of("tensorrt_rtx", "1.7.1")
    assert _precision(None, "fp16", weak).value == "fp16"
    assert _precision("fp16", "fp32", weak).value == "fp16"  # builder flags lower an fp32 snapshot
    assert _precision("fp32", "fp32", strong).value == "fp32"
    with pytest.raises(UsageError, match="calibration"):
        _precision("int8", "fp32", weak)
    with pytest.raises(UsageError, match="bf16"):
        _precision("bf16", "fp32", weak)
    with pytest.raises(UsageError, match="holds fp16 tensors"):
        _precision("fp32", "fp16", weak)
    with pytest.raises(UsageError, match="strongly typed"):
        _precision("fp16", "fp32", strong)


def test_unsupported_parts_are_all_listed_by_layer_name(converted: tuple[Path, Path], tensorrt: Any,
                                                        tmp_path: Path) -> None:
    _, engine = converted
    snap = Snapshot.load(engine)
    assert unsupported_parts(snap, tensorrt) == []
    edited = Snapshot(graph=copy.deepcopy(snap.graph), weights=dict(snap.weights))
    layers = edited.graph["layers"]
    layers[0]["outputs"][0]["dtype"] = "complex64"
    layers[1]["type"] = "PLUGIN_V2"
    layers[-1]["attrs"]["not_an_attribute"] = 3
    problems = unsupported_parts(edited, tensorrt)
    assert len(problems) == 3, problems
    assert problems[0] == f"layer {layers[0]['name']!r} ({layers[0]['type']}): output " \
                          f"{layers[0]['outputs'][0]['name']!r} of data type complex64"
    assert problems[1] == f"layer {layers[1]['name']!r} (PLUGIN_V2): PLUGIN_V2 layers"
    assert "not_an_attribute=3" in problems[2] and layers[-1]["name"] in problems[2]
    edited.save(tmp_path / "bad.engine")
    with pytest.raises(UnsupportedOperationsError, match="3 unsupported part") as info:
        build_snapshot(tmp_path / "bad.engine", target="sm89")
    assert info.value.unsupported == problems


def test_int64_shape_arithmetic_lowered_to_int32_still_computes_the_model(
        converted: tuple[Path, Path], tensorrt: Any) -> None:
    """What TensorRT 8.x gets (no int64 there): forced here on RTX, then checked on CPU."""
    from trtforge.verify.checking import check
    from trtforge.verify.snapshot import engine_snapshot

    model, engine = converted
    snap = Snapshot.load(engine)
    assert "int64" in set(snap.tensor_dtypes().values())
    assert unsupported_parts(snap, tensorrt, lower_int64=True) == []
    built = build_snapshot(engine, target="sm89", lower_int64=True)
    lowered = built.metadata["from_snapshot"]["int64_lowered"]
    assert lowered and any("int32" in n for n in built.metadata["notes"])
    rebuilt = engine_snapshot(built)
    constants = [l for l in rebuilt.layers if l["type"] == "CONSTANT"]
    assert all(rebuilt.weight(l["attrs"]["weights"]).dtype != np.int64 for l in constants)
    assert [t["dtype"] for t in rebuilt.outputs] == [t["dtype"] for t in snap.outputs]
    report = check(model, built)
    assert report.passed, report
    edited = Snapshot(graph=copy.deepcopy(snap.graph), weights=dict(snap.weights))
    key = next(l["attrs"]["weights"]["weights"] for l in edited.layers
               if l["type"] == "CONSTANT" and edited.weight(l["attrs"]["weights"]).dtype == np.int64)
    edited.weights[key] = np.array([1 << 40], np.int64)
    assert any("outside the int32 range" in p for p in unsupported_parts(edited, tensorrt, lower_int64=True))


def test_defaults_an_older_tensorrt_has_implicitly() -> None:
    from trtforge.verify.snapshot import is_implicit

    assert is_implicit("SLICE", "axes", [0, 1, 2, 3], rank=4)
    assert not is_implicit("SLICE", "axes", [0, 1], rank=4)
    assert not is_implicit("SLICE", "axes", [1, 2], rank=2)
    assert is_implicit("DEQUANTIZE", "to_type", "FLOAT") and is_implicit("QUANTIZE", "to_type", "INT8")
    assert not is_implicit("QUANTIZE", "to_type", "FP8")
    assert is_implicit("QUANTIZE", "block_shape", []) and not is_implicit("QUANTIZE", "block_shape", [1, 32])


class _WithoutSqueeze:
    """A network whose API lacks add_squeeze/add_unsqueeze, as TensorRT 8.x's does."""

    def __init__(self, network: Any) -> None:
        self._network = network

    def __getattr__(self, name: str) -> Any:
        if name in ("add_squeeze", "add_unsqueeze"):
            raise AttributeError(name)
        return getattr(self._network, name)


def _squeeze_model(path: Path) -> Path:
    """x [n,3,1,4] -> Squeeze(2) -> [n,3,4] -> Relu -> Unsqueeze(1) -> [n,1,3,4], dynamic batch."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    nodes = [helper.make_node("Squeeze", ["x", "axes2"], ["s"], name="squeeze"),
             helper.make_node("Relu", ["s"], ["r"], name="relu"),
             helper.make_node("Unsqueeze", ["r", "axes1"], ["y"], name="unsqueeze")]
    graph = helper.make_graph(
        nodes, "squeezes", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, 1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1, 3, 4])],
        [numpy_helper.from_array(np.array([2], np.int64), "axes2"),
         numpy_helper.from_array(np.array([1], np.int64), "axes1")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_squeeze_and_unsqueeze_replay_as_shuffles_where_tensorrt_lacks_them(tensorrt: Any, tmp_path: Path) -> None:
    """TensorRT 8.6 has no ISqueezeLayer (the H200 run of 2026-12-02 refused the Keras seed
    snapshots for it): replay stands in a SHUFFLE computing the same shape, int64 lowered too."""
    from trtforge.reference import Executor
    from trtforge.verify.snapshot import replay, take_snapshot

    engine = tmp_path / "squeeze.engine"
    result = run_cli("convert", str(_squeeze_model(tmp_path / "squeeze.onnx")), "--backend", "onnx_trt",
                     "--input", "x:1x3x1x4,2x3x1x4,4x3x1x4", "--target", "sm89", "-o", str(engine),
                     "--snapshot", "--no-cache")
    assert result.returncode == 0, result.stderr
    snap = Snapshot.load(engine)
    assert {"SQUEEZE", "UNSQUEEZE"} <= {layer["type"] for layer in snap.layers}
    network = tensorrt.create_network()
    replayed = replay(snap, tensorrt, network=_WithoutSqueeze(network), lower_int64=True)
    types = [network.get_layer(k).type.name for k in range(network.num_layers)]
    assert "SQUEEZE" not in types and "UNSQUEEZE" not in types and types.count("SHUFFLE") >= 2
    rebuilt = take_snapshot(network, tensorrt, profiles=snap.graph.get("profiles", ()))
    x = np.random.default_rng(3).standard_normal((3, 3, 1, 4)).astype(np.float32)
    want = np.maximum(x[:, :, 0, :], 0)[:, None]
    got = next(iter(Executor(rebuilt).run({"x": x}).numpy().values()))
    assert got.shape == (3, 1, 3, 4) and np.array_equal(got, want)
    assert replayed.keepalive
