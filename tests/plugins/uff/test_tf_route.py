"""TF -> UFF -> TensorRT through trtforge.convert (TF graph loading: core's trtforge.models.tf_graphs)."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip(
    "trtforge.models.tf_graphs", reason="core's shared TF graph loading (tf-trt branch) not merged yet"
)

import trtforge  # noqa: E402
from trtforge_zoo import models as zoo  # noqa: E402

from trtforge_uff.format import io, validate  # noqa: E402

TARGET = "sm89"


def _convert_and_check(tmp_path, name):
    model = zoo.SEED_MODELS[name](directory=tmp_path / "zoo")
    kept = tmp_path / "kept"
    engine = trtforge.convert(
        model.model,
        backend="uff",
        cache=False,
        target=TARGET,
        inputs=[model.example],
        options={"keep_uff": str(kept)},
    )
    report = trtforge.check(model.model, engine, [model.example])
    assert report.passed, [m.to_dict() for m in report.outputs]
    files = sorted(p.name for p in kept.iterdir())
    assert [f for f in files if f.endswith(".uff")] and [f for f in files if f.endswith(".pbtxt")]
    uff = next(kept.glob("*.uff"))
    meta = io.read(uff)
    assert validate.problems(meta) == [] and io.read(next(kept.glob("*.pbtxt"))) == meta
    return engine, meta


def test_seed_model1_frozen_graph(tmp_path):
    engine, meta = _convert_and_check(tmp_path, "model1")
    ops = {n.operation for n in meta.graphs[0].nodes}
    assert {"Input", "Conv", "Pool", "FullyConnected", "MarkOutput"} <= ops


@pytest.mark.slow
@pytest.mark.parametrize("name", ["model2", "model3"])
def test_seed_models_2_and_3(tmp_path, name):
    engine, meta = _convert_and_check(tmp_path, name)
    ops = {n.operation for n in meta.graphs[0].nodes}
    assert "Conv" in ops and "Binary" in ops


def test_tf2_function_to_uff(tmp_path):
    import numpy as np
    import tensorflow as tf

    from trtforge.reference import Executor
    from trtforge.verify.snapshot import engine_snapshot

    from trtforge_uff.tf2uff.source import uff_from_tf

    rng = np.random.default_rng(0)
    kernel = tf.constant(rng.standard_normal((3, 3, 3, 4)).astype(np.float32))
    dense = tf.constant(rng.standard_normal((4, 2)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 3], tf.float32, name="image")])
    def model(image):
        y = tf.nn.relu(tf.nn.conv2d(image, kernel, 1, "SAME"))
        return tf.nn.softmax(tf.matmul(tf.reduce_mean(y, [1, 2]), dense))

    result, notes = uff_from_tf(model)
    path = io.write(result.meta, tmp_path / "fn.uff")
    engine = trtforge.convert(path, backend="uff", cache=False, target=TARGET)
    x = rng.standard_normal((1, 8, 8, 3)).astype(np.float32)
    got = Executor(engine_snapshot(engine)).run({result.inputs[0]: x}).numpy()
    np.testing.assert_allclose(next(iter(got.values())), model(tf.constant(x)).numpy(), rtol=1e-5, atol=1e-6)
