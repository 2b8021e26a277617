"""check / debug layers: metrics, tolerance policy, runners, engine files, cache and CLI.

Everything runs for real: torch/onnxruntime/Keras as sources, the TensorRT-RTX ONNX parser
for the networks, the CPU reference executor for the network side.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from trtforge import Availability, Backend, hookimpl
from trtforge.verify.checking import (
                                      TOLERANCES,
                                      Tolerance,
                                      check,
                                      compare_arrays,
                                      debug_layers,
                                      default_inputs,
                                      )
from trtforge.errors import CheckError
from trtforge.verify.snapshot import Snapshot, engine_snapshot, take_snapshot
from trtforge.conversion.specs import InputSpec

torch = pytest.importorskip("torch")


# --- metrics and tolerance ------------------------------------------------------------
def test_identical_outputs_pass_with_full_agreement() -> None:
    logits = np.random.default_rng(0).standard_normal((4, 10)).astype(np.float32)
    m = compare_arrays("y", logits, logits.copy(), TOLERANCES["fp32"])
    assert m.passed and m.max_abs == 0 and m.top1 == 1.0 and m.top5 == 1.0
    assert m.cosine == pytest.approx(1.0)


def test_error_beyond_range_fraction_fails_and_says_why() -> None:
    ref = np.linspace(-1, 1, 20, dtype=np.float32).reshape(2, 10)
    got = ref.copy()
    got[0, 0] += 0.01  # 0.005 of the range 2.0: fine for fp16, not for fp32
    assert compare_arrays("y", ref, got, TOLERANCES["fp16"]).passed
    failed = compare_arrays("y", ref, got, TOLERANCES["fp32"])
    assert not failed.passed
    assert any("max abs error" in r for r in failed.reasons)


def test_top1_counts_only_decisive_samples() -> None:
    tol = Tolerance(range_fraction=0.01, min_cosine=0.9, min_top1=1.0)
    ref = np.array([[5.0, 0.0, 1.0], [1.0, 1.001, 0.0]])
    swapped_tie = np.array([[5.0, 0.0, 1.0], [1.001, 1.0, 0.0]])  # near-tie flips: not decisive
    m = compare_arrays("y", ref, swapped_tie, tol)
    assert m.top1 == 0.5 and m.decisive == 1 and m.passed
    wrong = np.array([[0.0, 5.0, 1.0], [1.0, 1.001, 0.0]])
    assert not compare_arrays("y", ref, wrong, tol).passed


def test_nan_output_fails() -> None:
    ref = np.ones((1, 3), np.float32)
    got = ref.copy()
    got[0, 1] = np.nan
    assert "NaN" in " ".join(compare_arrays("y", ref, got, TOLERANCES["int8"]).reasons)


# --- a small torch model, its ONNX file and the real parser's network ---------------------
class SmallNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(8)
        self.conv2 = torch.nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.fc = torch.nn.Linear(8, 10)

    def forward(self, x: Any) -> Any:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.nn.functional.max_pool2d(y, 2)
        y = torch.sigmoid(self.conv2(y)) * y
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(y, 1), 1))


@pytest.fixture(scope="module")
def small_net() -> SmallNet:
    torch.manual_seed(0)
    net = SmallNet().eval()
    with torch.no_grad():
        net.bn1.running_mean.uniform_(-0.5, 0.5)
        net.bn1.running_var.uniform_(0.5, 2.0)
    return net


@pytest.fixture(scope="module")
def onnx_path(small_net: SmallNet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "small.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(small_net, torch.randn(2, 3, 16, 16), str(path), input_names=["x"],
                          output_names=["y"], opset_version=17,
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, dynamo=False)
    return path


PROFILE = InputSpec("x", min=(1, 3, 16, 16), opt=(3, 3, 16, 16), max=(4, 3, 16, 16))


def parse_snapshot(path: Path, profile: InputSpec = PROFILE) -> Snapshot:
    from trtforge.tensorrt.trt import get_tensorrt

    tensorrt = get_tensorrt()
    network = tensorrt.create_network()
    parser = tensorrt.create_onnx_parser(network)
    assert parser.parse(path.read_bytes())
    return take_snapshot(network, tensorrt, profiles=[profile])


def test_default_inputs_use_the_profile_opt_shape_and_are_seeded(onnx_path: Path) -> None:
    snap = parse_snapshot(onnx_path)
    a, b = default_inputs(snap, seed=1), default_inputs(snap, seed=1)
    assert a["x"].shape == (3, 3, 16, 16) and a["x"].dtype == np.float32
    np.testing.assert_array_equal(a["x"], b["x"])
    assert not np.array_equal(a["x"], default_inputs(snap, seed=2)["x"])


def test_check_torch_module_against_its_parsed_network(small_net: SmallNet, onnx_path: Path) -> None:
    report = check(small_net, parse_snapshot(onnx_path))
    assert report.passed, report.to_dict()
    assert report.source_kind == "torch" and report.precision == "fp32"
    (out,) = report.outputs
    assert out.shape == (3, 10) and out.max_abs < 1e-4 and out.top1 == 1.0


def test_check_onnx_file_with_given_inputs(onnx_path: Path) -> None:
    x = np.random.default_rng(5).standard_normal((4, 3, 16, 16)).astype(np.float32)
    report = check(onnx_path, parse_snapshot(onnx_path), inputs=[x])
    assert report.passed and report.source_kind == "onnx" and report.inputs == {"x": [4, 3, 16, 16]}


def test_check_fails_for_another_model(onnx_path: Path) -> None:
    torch.manual_seed(1)
    report = check(SmallNet().eval(), parse_snapshot(onnx_path))
    assert not report.passed
    assert report.outputs[0].reasons


def _tamper(snap: Snapshot, layer_name: str) -> Snapshot:
    """A copy of ``snap`` whose named convolution has a wrong kernel."""
    weights = dict(snap.weights)
    layer = next(l for l in snap.layers if l["name"] == layer_name)
    key = layer["attrs"]["kernel"]["weights"]
    weights[key] = weights[key] * np.float32(1.5)
    return Snapshot(graph=snap.graph, weights=weights)


def test_debug_layers_finds_the_first_diverging_onnx_node(onnx_path: Path) -> None:
    snap = parse_snapshot(onnx_path)
    clean = debug_layers(onnx_path, snap)
    assert clean.first_divergence is None and len(clean.compared) >= 8
    broken = debug_layers(onnx_path, _tamper(snap, "/conv2/Conv"))
    first = broken.first_divergence
    assert first is not None and first.layer == "/conv2/Conv" and first.layer_type == "CONVOLUTION"
    assert first.source_node == "/conv2/Conv (Conv)"
    assert not broken.check.passed


def test_debug_layers_maps_torch_modules_through_export_scopes(small_net: SmallNet, onnx_path: Path) -> None:
    snap = parse_snapshot(onnx_path)
    broken = debug_layers(small_net, _tamper(snap, "/conv2/Conv"))
    assert broken.compared, "no torch module mapped to a network tensor"
    assert broken.first_divergence is not None
    assert "conv2" in broken.first_divergence.source_node


# --- engines: convert, snapshot beside the engine, the cache, the CLI ---------------------
class OnnxParserBackend(Backend):
    """A real route for these tests: NVIDIA's ONNX parser fills the network."""

    name = "test-onnx-parser"
    priority = 5

    def is_available(self) -> Availability:
        return Availability(True)

    def accepts(self, source: Any) -> bool:
        return source.kind == "onnx-file"

    def populate(self, network: Any, source: Any, spec: Any, ctx: Any) -> None:
        parser = ctx.tensorrt.create_onnx_parser(network)
        if not parser.parse(Path(source.path).read_bytes()):
            raise CheckError("test route: parse failed")


class OnnxParserPlugin:
    @hookimpl
    def register_backends(self, register: Any) -> None:
        register(OnnxParserBackend())


@pytest.fixture
def onnx_route(plugin_registry: Callable[..., str]) -> None:
    plugin_registry(OnnxParserPlugin(), name="test-onnx-parser-plugin")


def _convert(onnx_path: Path, cache: Any) -> Any:
    from trtforge.conversion.api import convert

    return convert(onnx_path, backend="test-onnx-parser", inputs=[PROFILE], target="sm89", cache=cache)


def test_convert_keeps_snapshot_and_saves_it_beside_the_engine(onnx_route: None, onnx_path: Path,
                                                              tmp_path: Path) -> None:
    engine = _convert(onnx_path, cache=False)
    snap = engine.extras["snapshot"]
    assert snap.profiles == [PROFILE.to_dict()]
    out = engine.save(tmp_path / "small.engine", snapshot=True)
    assert (tmp_path / "small.engine.snapshot.json").is_file()
    assert (tmp_path / "small.engine.snapshot.npz").is_file()
    report = check(onnx_path, out)
    assert report.passed and report.inputs == {"x": [3, 3, 16, 16]}
    report = check(onnx_path, str(tmp_path / "small.engine.snapshot.json"))
    assert report.passed


def test_engine_without_saved_snapshot_is_refused_with_a_hint(onnx_route: None, onnx_path: Path,
                                                             tmp_path: Path) -> None:
    _convert(onnx_path, cache=False).save(tmp_path / "plain.engine")
    with pytest.raises(CheckError, match="no network snapshot") as info:
        check(onnx_path, tmp_path / "plain.engine")
    assert "snapshot=True" in (info.value.hint or "")


def test_cache_stores_and_restores_the_snapshot(onnx_route: None, onnx_path: Path,
                                                trtforge_cache: Any) -> None:
    first = _convert(onnx_path, cache=trtforge_cache)
    assert first.metadata["cache"]["hit"] is False
    hit = _convert(onnx_path, cache=trtforge_cache)
    assert hit.metadata["cache"]["hit"] is True
    assert "snapshot" not in hit.extras  # read lazily
    restored = engine_snapshot(hit)
    assert restored is not None
    assert restored.json_bytes() == first.extras["snapshot"].json_bytes()
    assert check(onnx_path, hit).passed


def test_cli_check_and_debug_layers(onnx_route: None, onnx_path: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from trtforge.cli import main

    engine_path = tmp_path / "small.engine"
    _convert(onnx_path, cache=False).save(engine_path, snapshot=True)
    assert main(["check", str(onnx_path), str(engine_path)]) == 0
    assert "PASS" in capsys.readouterr().out
    assert main(["check", str(onnx_path), str(engine_path), "--json", "--seed", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is True and data["outputs"][0]["top1"] == 1.0
    inputs = tmp_path / "inputs.npz"
    np.savez(inputs, x=np.ones((2, 3, 16, 16), np.float32))
    assert main(["check", str(onnx_path), str(engine_path), "--inputs", str(inputs), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["inputs"] == {"x": [2, 3, 16, 16]}

    assert main(["debug", "layers", str(onnx_path), str(engine_path)]) == 0
    assert "no layer diverges" in capsys.readouterr().out
    broken = _tamper(Snapshot.load(engine_path), "/conv1/Conv")
    broken.save(tmp_path / "broken.engine")
    code = main(["debug", "layers", str(onnx_path), str(tmp_path / "broken.engine.snapshot.json")])
    out = capsys.readouterr().out
    assert code == 1 and "first divergence" in out and "/conv1/Conv" in out
    assert main(["check", str(onnx_path), str(tmp_path / "broken.engine.snapshot.json")]) == 1


# --- TensorFlow sources: Keras (object and file), SavedModel, frozen graph ----------------
def _keras_model() -> Any:
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 3), name="image")
    y = keras.layers.Conv2D(6, 3, padding="same", name="conv_a")(inputs)
    y = keras.layers.BatchNormalization(name="bn_a")(y)
    y = keras.layers.ReLU(name="relu_a")(y)
    y = keras.layers.MaxPooling2D(name="pool_a")(y)
    y = keras.layers.DepthwiseConv2D(3, padding="same", name="dw_b")(y)
    y = keras.layers.GlobalAveragePooling2D(name="gap")(y)
    outputs = keras.layers.Dense(7, name="logits")(y)
    return keras.Model(inputs, outputs, name="tiny_keras")


def _tf2onnx_snapshot(model: Any, folder: Path, nchw: bool = False) -> Snapshot:
    import tensorflow as tf
    import tf2onnx

    path = folder / "keras.onnx"
    spec = (tf.TensorSpec((None, 12, 12, 3), tf.float32, name="image"),)
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=17, output_path=str(path),
                               inputs_as_nchw=["image"] if nchw else None)
    profile_shape = (2, 3, 12, 12) if nchw else (2, 12, 12, 3)
    return parse_snapshot(path, InputSpec("image", shape=profile_shape))


@pytest.mark.tf
@pytest.mark.slow
def test_keras_object_file_and_savedmodel_sources(tmp_path: Path) -> None:
    model = _keras_model()
    snap = _tf2onnx_snapshot(model, tmp_path)
    report = check(model, snap)
    assert report.passed and report.source_kind == "keras", report.to_dict()
    model.save(tmp_path / "tiny.keras")
    assert check(tmp_path / "tiny.keras", snap).passed
    model.export(str(tmp_path / "saved"), verbose=False)
    report = check(tmp_path / "saved", snap)
    assert report.passed and report.source_kind == "tf-savedmodel", report.to_dict()
    # A route that feeds NCHW (tf2onnx inputs_as_nchw) is compared against NHWC Keras.
    assert check(model, _tf2onnx_snapshot(model, tmp_path, nchw=True)).passed


@pytest.mark.tf
@pytest.mark.slow
def test_keras_layerwise_maps_layers_by_name_scope(tmp_path: Path) -> None:
    model = _keras_model()
    snap = _tf2onnx_snapshot(model, tmp_path)
    clean = debug_layers(model, snap)
    assert clean.first_divergence is None
    nodes = {c.source_node.split(" ")[0] for c in clean.compared}
    # tf2onnx folds bn_a into conv_a's convolution, so that tensor maps to bn_a.
    assert {"bn_a", "relu_a", "pool_a", "dw_b", "gap"} <= nodes, nodes
    conv = next(l["name"] for l in snap.layers if l["type"] == "CONVOLUTION")
    broken = debug_layers(model, _tamper(snap, conv))
    assert broken.first_divergence is not None and broken.first_divergence.layer == conv


@pytest.mark.tf
@pytest.mark.slow
def test_frozen_graph_source_by_tensor_names(tmp_path: Path) -> None:
    tf = pytest.importorskip("tensorflow")
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    w = tf.constant(np.random.default_rng(0).standard_normal((3, 3, 3, 4)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec((None, 8, 8, 3), tf.float32, name="pixels")])
    def forward(pixels: Any) -> Any:
        y = tf.nn.relu(tf.nn.conv2d(pixels, w, 1, "SAME", name="conv"), name="act")
        return tf.reduce_mean(y, axis=[1, 2], name="pooled")

    frozen = convert_variables_to_constants_v2(forward.get_concrete_function())
    graph_def = frozen.graph.as_graph_def()
    pb = tmp_path / "frozen.pb"
    pb.write_bytes(graph_def.SerializeToString())
    inputs = [t.name for t in frozen.inputs]
    outputs = [t.name for t in frozen.outputs]
    onnx_path = tmp_path / "frozen.onnx"
    tf2onnx.convert.from_graph_def(graph_def, input_names=inputs, output_names=outputs, opset=17,
                                   output_path=str(onnx_path))
    snap = parse_snapshot(onnx_path, InputSpec(inputs[0], shape=(2, 8, 8, 3)))
    report = check(pb, snap)
    assert report.passed and report.source_kind == "tf-frozen-graph", report.to_dict()
    layers = debug_layers(pb, snap)
    assert layers.first_divergence is None and layers.compared


def test_reduced_precision_tolerance_follows_the_source_own_error() -> None:
    """fp16/bf16 engines may be as far from fp32 as the source framework itself is (x1.5)."""
    import numpy as np

    from trtforge.verify.checking import (NATIVE_BASELINE_FACTOR, SourceRunner, _native_tolerances,
                                          tolerance_for)

    reference = np.linspace(-1.0, 1.0, 40, dtype=np.float32).reshape(2, 20)
    own_error = np.zeros_like(reference)
    own_error[0, 3] = 0.2  # the source in fp16 is off by 0.2 = 10% of the range 2.0

    class Runner(SourceRunner):
        def __init__(self, reduced: Any) -> None:
            self.reduced = reduced

        def run_reduced(self, feeds: Any, order: Any, precision: str) -> Any:
            return self.reduced

    base = tolerance_for("fp16")
    notes: list[str] = []
    (widened,) = _native_tolerances(Runner([reference + own_error]), {}, [], "fp16", [reference], base, notes)
    assert widened.range_fraction == pytest.approx(NATIVE_BASELINE_FACTOR * 0.2 / 2.0)
    assert widened.min_cosine <= base.min_cosine and notes and "widened" in notes[0]
    # A source that loses nothing leaves the table's tolerance as it is.
    (same,) = _native_tolerances(Runner([reference.copy()]), {}, [], "fp16", [reference], base, [])
    assert same == base
    # A source that cannot run in fp16 also keeps the table.
    (kept,) = _native_tolerances(Runner(None), {}, [], "fp16", [reference], base, [])
    assert kept == base


def test_check_debug_and_compare_share_one_verdict(small_net: SmallNet, onnx_path: Path) -> None:
    """debug_layers and compare used to skip check's fp16/bf16 widening: one engine could pass
    check and fail the other two."""
    from trtforge.verify.checking import TorchRunner
    from trtforge.report.comparison import numerics

    snap = parse_snapshot(onnx_path)
    x = np.random.default_rng(3).standard_normal((3, 3, 16, 16)).astype(np.float32)
    true = TorchRunner(small_net).run({"x": x}, ["x"])[0]
    shift = np.zeros_like(true)
    shift[0, 0] = 0.08 * float(true.max() - true.min())  # beyond fp16's 5% of the range

    class OffByItself(TorchRunner):
        """A source whose fp32 run is off by ``shift`` and whose fp16 run is not: its own
        fp16 error is ``shift``, so the engine may be as far."""

        def run(self, feeds: Any, order: Any) -> list[Any]:
            return [out + shift for out in super().run(feeds, order)]

        def run_reduced(self, feeds: Any, order: Any, precision: str) -> list[Any]:
            return super().run(feeds, order)

    runner = OffByItself(small_net)
    checked = check(runner, snap, inputs=[x], precision="fp16")
    debugged = debug_layers(runner, snap, inputs=[x], precision="fp16")
    assert checked.passed and debugged.check.passed, (checked.to_dict(), debugged.check.to_dict())
    assert any("widened" in note for note in debugged.check.notes)
    strict = check(runner, snap, inputs=[x], precision="fp16", tolerance=TOLERANCES["fp16"])
    assert not strict.passed  # an explicit tolerance is used as is, by every caller
    network = [true]
    assert not numerics([true + shift], network, "fp16")["passed"]
    assert numerics([true + shift], network, "fp16", reduced=lambda: [true])["passed"]
