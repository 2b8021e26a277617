"""The TF-TRT API on TensorFlow without TensorRT: a seed-002-style script (SavedModel in,
FP32/FP16/INT8 engines out, saved, loaded, timed) runs with one import changed."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import trtforge_tf_trt
from trtforge_zoo import models as zoo
from trtforge.errors import UsageError
from trtforge_tf_trt import compat as trt


def _script(saved_model: Path, out: Path, mode: str, calibration: np.ndarray) -> Path:
    """What seed 002 does with TF-TRT, the import being the only change."""
    converter = trt.TrtGraphConverterV2(input_saved_model_dir=str(saved_model), precision_mode=mode,
                                        max_workspace_size_bytes=1 << 28, target="sm89")
    if mode == trt.TrtPrecisionMode.INT8:
        def calibration_input_fn():  # type: ignore[no-untyped-def]
            for k in range(0, len(calibration), 4):
                yield (calibration[k:k + 4],)
        converter.convert(calibration_input_fn=calibration_input_fn)
    else:
        converter.convert()

    def input_fn():  # type: ignore[no-untyped-def]
        yield (calibration[:1],)
        yield (calibration[:2],)

    converter.build(input_fn=input_fn)
    return converter.save(str(out))


def test_seed_002_style_script(seed_model: Callable[[str], zoo.ZooModel], tmp_path: Path) -> None:
    m = seed_model("model3")
    rng = np.random.default_rng(3)
    batch = rng.integers(0, 256, size=(8, 32, 32, 3), dtype=np.uint8)
    reference = m.reference(batch[:2])
    timings = {}
    for mode in trt.TrtPrecisionMode.supported_precision_modes():
        folder = _script(m.path, tmp_path / f"trt_{mode}", mode, batch)
        loaded = trtforge_tf_trt.load(folder, device="reference")
        infer = loaded.signatures["serving_default"]
        start = time.perf_counter()
        out = infer(image=batch[:2])["logits"].numpy()
        timings[mode] = time.perf_counter() - start
        assert out.shape == reference.shape
        cosine = float(np.dot(out.ravel(), reference.ravel()) /
                       (np.linalg.norm(out) * np.linalg.norm(reference)))
        assert cosine > (0.9999 if mode == "FP32" else 0.999), (mode, cosine)
        assert (out.argmax(1) == reference.argmax(1)).all()
        assert loaded.program.precision == mode.lower()
        profile = loaded.program.profiles[0]["profiles"][0]
        assert profile["min"][0] == 1 and profile["max"][0] == 2
    assert set(timings) == {"FP32", "FP16", "INT8"}


def test_create_inference_graph_from_a_frozen_graph(seed_model: Callable[[str], zoo.ZooModel],
                                                    tmp_path: Path) -> None:
    m = seed_model("model1")
    from trtforge.models.tf_graphs import frozen_graph

    graph_def = frozen_graph(m.path, grappler=False).graph_def
    program = trt.create_inference_graph(graph_def, outputs=["logits:0"], max_batch_size=4,
                                         precision_mode="FP16", output_saved_model_dir=str(tmp_path / "out"),
                                         target="sm89")
    x = np.concatenate([m.example] * 3)
    got = trtforge_tf_trt.load(tmp_path / "out", device="reference")(x)["logits:0"]
    assert np.allclose(got, m.reference(x), atol=0.05)
    assert program.profiles[0]["profiles"][0]["max"][0] == 4


def test_compat_errors() -> None:
    with pytest.raises(UsageError, match="input_saved_model_dir"):
        trt.TrtGraphConverterV2()
    with pytest.raises(UsageError, match="precision_mode"):
        trt.TrtGraphConverterV2(input_saved_model_dir="x", precision_mode="FP8")
