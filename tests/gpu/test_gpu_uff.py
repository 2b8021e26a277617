"""UFF on a real TensorRT with its own UFF parser (8.x): our .uff files are accepted by
``trt.UffParser`` and its engines agree with our importer's engines on the same inputs.

Fixtures are made on a CPU machine with TensorFlow by ``tests/gpu/make_uff_fixtures.py``
(folder ``TRTFORGE_UFF_FIXTURES``, default ``.uff-fixtures/`` in the repository; carry it to
the GPU machine). Every comparison prints one ``UFF-GPU`` line with its figures (run with -s).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.gpu

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("TRTFORGE_UFF_FIXTURES", REPO / ".uff-fixtures")).expanduser()
MANIFEST_PATH = FIXTURES / "manifest.json"


def _manifest() -> dict[str, Any]:
    if not MANIFEST_PATH.is_file():
        pytest.skip(
            f"no UFF fixtures: {MANIFEST_PATH} missing (run tests/gpu/make_uff_fixtures.py where "
            "TensorFlow is, carry .uff-fixtures/)"
        )
    return json.loads(MANIFEST_PATH.read_text())


@pytest.fixture(scope="module")
def fixtures() -> dict[str, Any]:
    manifest = _manifest()
    return {
        "manifest": manifest,
        "inputs": dict(np.load(FIXTURES / "inputs.npz")),
        "expected": dict(np.load(FIXTURES / "expected.npz")),
    }


@pytest.fixture(scope="module")
def trt() -> Any:
    from trtforge.tensorrt.trt import get_tensorrt

    module = get_tensorrt().module
    if not hasattr(module, "UffParser"):
        pytest.skip(f"{get_tensorrt().facts.label} has no UFF parser (removed in TensorRT 10)")
    return module


def report(what: str, **figures: Any) -> None:
    print(f"UFF-GPU {what}: " + json.dumps(figures, default=float, sort_keys=True))


_LOGGER: list[Any] = []


def _native_logger(trt: Any) -> Any:
    """One plain ``trt.Logger`` for the whole process, given to the plugin library once: the
    library keeps the first logger it is initialised with, and a freed one segfaults the next
    plugin that logs (8.6: parsing ssd.uff after two earlier tests). Errors print to stderr."""
    if not _LOGGER:
        _LOGGER.append(trt.Logger(trt.Logger.WARNING))
        trt.init_libnvinfer_plugins(_LOGGER[0], "")
    return _LOGGER[0]


def native_engine(trt: Any, path: Path, inputs: dict[str, tuple[int, ...]], outputs: list[str]) -> Any:
    """TensorRT's own UFF parser (implicit batch 1, inputs registered NHWC)."""
    logger = _native_logger(trt)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.UffParser()
    for name, hwc in inputs.items():
        assert parser.register_input(name, hwc, trt.UffInputOrder.NHWC)
    for name in outputs:
        assert parser.register_output(name)
    assert parser.parse(str(path), network, trt.float32), f"trt.UffParser refused {path.name}"
    builder.max_batch_size = 1
    config = builder.create_builder_config()
    config.clear_flag(trt.BuilderFlag.TF32)
    plan = builder.build_serialized_network(network, config)
    assert plan is not None, f"TensorRT could not build the UffParser network of {path.name}"
    runtime = trt.Runtime(logger)
    # bytes, not the IHostMemory: the rig's 8.6 bindings (built with a newer pybind11) convert
    # an IHostMemory argument after releasing the GIL and fail PyGILState_Check.
    return runtime, runtime.deserialize_cuda_engine(bytes(plan))


def run_native(engine: Any, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    import torch

    context = engine.create_execution_context()
    buffers, outputs = [], {}
    for index in range(engine.num_bindings):
        name = engine.get_binding_name(index)
        shape = (1, *tuple(engine.get_binding_shape(index)))
        if engine.binding_is_input(index):
            value = feeds[name]
            if value.shape != shape and value.ndim == 4 and value.transpose(0, 3, 1, 2).shape == shape:
                value = value.transpose(0, 3, 1, 2)  # the binding is CHW
            tensor = torch.from_numpy(np.ascontiguousarray(value.reshape(shape))).cuda()
        else:
            dtype = torch.int32 if engine.get_binding_dtype(index).name == "INT32" else torch.float32
            tensor = torch.empty(shape, dtype=dtype, device="cuda")
            outputs[name] = tensor
        buffers.append(tensor)
    assert context.execute(1, [int(t.data_ptr()) for t in buffers])
    torch.cuda.synchronize()
    return {n: t.cpu().numpy() for n, t in outputs.items()}


def ours(path: Path, feeds: dict[str, np.ndarray], **options: Any) -> dict[str, np.ndarray]:
    import trtforge
    from trtforge.tensorrt.runtime import EngineRunner

    engine = trtforge.convert(path, backend="uff", cache=False, tf32=False, options=options or None)
    return EngineRunner(engine).run(feeds)


def _diff(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    a, b = np.asarray(a, np.float64).reshape(-1), np.asarray(b, np.float64).reshape(-1)
    scale = max(float(np.abs(a).max()), 1e-12)
    return {"max_abs": float(np.abs(a - b).max()), "max_rel": float(np.abs(a - b).max() / scale)}


def test_convnet_native_parser_agrees_with_our_importer(trt, fixtures):
    x = fixtures["inputs"]["convnet/input"]
    expected = fixtures["expected"]["convnet/prob"]
    runtime, engine = native_engine(trt, FIXTURES / "convnet.uff", {"input": (32, 32, 3)}, ["prob"])
    native = run_native(engine, {"input": x})
    mine = ours(FIXTURES / "convnet.uff", {"input": x})
    native_prob = next(iter(native.values()))
    report(
        "convnet",
        native_vs_ours=_diff(native_prob, mine["prob"]),
        ours_vs_tf=_diff(mine["prob"], expected),
        native_vs_tf=_diff(native_prob, expected),
    )
    np.testing.assert_allclose(mine["prob"].reshape(-1), expected.reshape(-1), rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(native_prob.reshape(-1), mine["prob"].reshape(-1), rtol=1e-3, atol=1e-5)


def test_ssd_heads_gridanchor_and_flattenconcat(trt, fixtures):
    spec = fixtures["manifest"]["ssd"]["spec"]
    image = fixtures["inputs"]["ssd/Input"]
    outputs = ["concat_box_loc", "concat_box_conf", "concat_priorbox"]
    runtime, engine = native_engine(
        trt, FIXTURES / "ssd_heads.uff", {"Input": tuple(spec["input_shape"])}, outputs
    )
    native = run_native(engine, {"Input": image})
    mine = ours(FIXTURES / "ssd_heads.uff", {"Input": image}, outputs=outputs)
    figures = {name: _diff(native[name], mine[name]) for name in outputs if name in native}
    priors_native = native["concat_priorbox"].reshape(2, -1, 4)
    priors_ours = mine["concat_priorbox"].reshape(2, -1, 4)
    figures["priors_native_vs_ours_xy_swapped"] = _diff(priors_native[:, :, [1, 0, 3, 2]], priors_ours)
    figures["native_shapes"] = {n: list(v.shape) for n, v in native.items()}
    report("ssd_heads", **figures)
    for name in ("concat_box_loc", "concat_box_conf"):
        np.testing.assert_allclose(native[name].reshape(-1), mine[name].reshape(-1), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(priors_native.reshape(-1), priors_ours.reshape(-1), atol=1e-5)


def _detections(rows: np.ndarray, count: int) -> set[tuple[Any, ...]]:
    """NMS_TRT rows (image, label, score, xmin, ymin, xmax, ymax) -> {(label, rounded box)}."""
    rows = rows.reshape(-1, 7)[:count]
    return {(int(r[1]), *np.round(r[3:7], 3).tolist()) for r in rows}


def test_ssd_nms_native_parser_agrees_with_our_importer(trt, fixtures):
    spec = fixtures["manifest"]["ssd"]["spec"]
    image = fixtures["inputs"]["ssd/Input"]
    runtime, engine = native_engine(trt, FIXTURES / "ssd.uff", {"Input": tuple(spec["input_shape"])}, ["NMS"])
    native = run_native(engine, {"Input": image})
    detections = next(v for v in native.values() if v.size == 7 * spec["keep_top_k"])
    count = int(next(v for v in native.values() if v.size == 1).reshape(-1)[0])
    mine = ours(FIXTURES / "ssd.uff", {"Input": image})
    my_rows = next(v for v in mine.values() if v.size == 7 * spec["keep_top_k"])
    my_count = int(next(v for v in mine.values() if v.size == 1).reshape(-1)[0])
    native_set, my_set = _detections(detections, count), _detections(my_rows, my_count)
    tf_count = int(fixtures["expected"]["ssd/num_detections"].reshape(-1)[0])
    report(
        "ssd_nms",
        native_count=count,
        our_count=my_count,
        tf_count=tf_count,
        common=len(native_set & my_set),
        only_native=len(native_set - my_set),
        only_ours=len(my_set - native_set),
    )
    assert count == my_count and native_set == my_set


def test_ssd_host_nms_stage_agrees_with_nms_trt(trt, fixtures):
    """The hybrid program (engine + host NMS, as on TensorRT-RTX) against the NMS_TRT plugin."""
    import trtforge

    spec = fixtures["manifest"]["ssd"]["spec"]
    image = fixtures["inputs"]["ssd/Input"]
    program = trtforge.convert(
        FIXTURES / "ssd.uff", backend="uff", cache=False, tf32=False, framework_ops=["_NMS_TRT"]
    )
    hybrid = program.run({"Input": image}, device="gpu")
    runtime, engine = native_engine(trt, FIXTURES / "ssd.uff", {"Input": tuple(spec["input_shape"])}, ["NMS"])
    native = run_native(engine, {"Input": image})
    detections = next(v for v in native.values() if v.size == 7 * spec["keep_top_k"])
    count = int(next(v for v in native.values() if v.size == 1).reshape(-1)[0])
    host_count = int(hybrid["NMS_1"].reshape(-1)[0])
    native_set, host_set = _detections(detections, count), _detections(hybrid["NMS"], host_count)
    report(
        "ssd_host_nms",
        native_count=count,
        host_count=host_count,
        common=len(native_set & host_set),
        only_native=len(native_set - host_set),
        only_host=len(host_set - native_set),
    )
    assert count == host_count and native_set == host_set
