from __future__ import annotations

import importlib.util
import sys

pytest_plugins = ["trtforge.testing"]

# TensorFlow and torch share this test process, and test modules import TensorFlow at
# collection: importing triton (torchvision, torch.export) after it crashes the interpreter
# (trtforge.models.compat). Where TensorFlow is installed there is no GPU work for triton to do, so
# it is kept out of the whole session before anything imports either framework.
if importlib.util.find_spec("tensorflow") is not None and "triton" not in sys.modules:
    sys.modules["triton"] = None  # type: ignore[assignment]


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """Skip ``@pytest.mark.gpu`` tests, with the reason, where no engine can run."""
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items:
        return
    import pytest

    from trtforge.errors import TensorRTError
    from trtforge.tensorrt.trt import get_tensorrt

    try:
        ok, why = get_tensorrt().can_run()
    except TensorRTError as exc:
        ok, why = False, exc.message
    if not ok:
        marker = pytest.mark.skip(reason=f"needs a GPU that can run TensorRT engines: {why}")
        for item in gpu_items:
            item.add_marker(marker)
