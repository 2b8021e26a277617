from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tiny_route import TinyBackend, TinyModel, TinyPlugin  # noqa: E402


@pytest.fixture
def tiny(plugin_registry: Callable[..., str]) -> TinyBackend:
    """Register the tiny real route in process; returns its backend (with a populate counter)."""
    backend = TinyBackend()
    plugin_registry(TinyPlugin(backend), name="tiny-plugin")
    return backend


@pytest.fixture
def tiny_model() -> TinyModel:
    return TinyModel()


@pytest.fixture
def tensorrt() -> Any:
    from trtforge.trt import get_tensorrt

    return get_tensorrt()


@pytest.fixture
def sigint_raises() -> Any:
    """Python's own SIGINT handler (KeyboardInterrupt) for the test, restored after.

    A shell starts background jobs with SIGINT ignored, and Python keeps that (``make test &``
    in a script): a simulated Ctrl-C then does nothing and the test would wrongly fail."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
