from __future__ import annotations

pytest_plugins = ["trtforge.testing"]


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """Skip ``@pytest.mark.gpu`` tests, with the reason, where no engine can run."""
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items:
        return
    import pytest

    from trtforge.errors import TensorRTError
    from trtforge.trt import get_tensorrt

    try:
        ok, why = get_tensorrt().can_run()
    except TensorRTError as exc:
        ok, why = False, exc.message
    if not ok:
        marker = pytest.mark.skip(reason=f"needs a GPU that can run TensorRT engines: {why}")
        for item in gpu_items:
            item.add_marker(marker)
