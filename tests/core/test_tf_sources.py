"""check and benchmark feed a SavedModel's keyword inputs in one order (sorted, the graph's)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from trtforge.models.tf_sources import savedmodel_input_names


def test_signature_inputs_in_sorted_order_whatever_the_mapping_order() -> None:
    signature = SimpleNamespace(structured_input_signature=((), {"zeta": 1, "alpha": 2, "mid": 3}))
    assert savedmodel_input_names(signature) == ["alpha", "mid", "zeta"]


@pytest.mark.tf
def test_check_and_benchmark_runners_feed_the_same_order(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    tf = pytest.importorskip("tensorflow")
    import trtforge.models.tf_sources as tf_sources
    from trtforge.report.benchmark import native_runners
    from trtforge.verify.checking import SavedModelRunner
    from trtforge.models.sources import detect

    class TwoInputs(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((None, 3), tf.float32, name="zeta"),
                                      tf.TensorSpec((None, 3), tf.float32, name="alpha")])
        def __call__(self, zeta: Any, alpha: Any) -> Any:
            return {"out": zeta - 2.0 * alpha}  # not symmetric: a swap shows

    module = TwoInputs()
    tf.saved_model.save(module, str(tmp_path / "saved"), signatures={"serving_default": module.__call__})
    asked: list[str] = []
    real = tf_sources.savedmodel_input_names

    def recording(signature: Any) -> list[str]:
        asked.append("asked")
        return real(signature)

    monkeypatch.setattr(tf_sources, "savedmodel_input_names", recording)
    rng = np.random.default_rng(0)
    a, z = (rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2))
    # The network's order (tf2onnx): sorted names, so "alpha" first.
    (checked,) = SavedModelRunner(tmp_path / "saved").run({"alpha": a, "zeta": z}, ["alpha", "zeta"])
    (runner,), _ = native_runners(detect(tmp_path / "saved"), torch_compile=False)
    (timed,) = runner.run([a, z])
    assert len(asked) == 2  # both runners take the order from the one helper
    np.testing.assert_allclose(checked, z - 2.0 * a, rtol=1e-6)
    np.testing.assert_allclose(timed, checked, rtol=1e-6)
