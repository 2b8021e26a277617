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
    from trtforge.tensorrt.trt import get_tensorrt

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


@pytest.fixture
def ctrl_c_during_build(sigint_raises: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """Press Ctrl-C once, inside the next TensorRT build; the dict says whether it was sent.

    Sent from the builder's progress monitor, which TensorRT polls in every build (what it logs
    there depends on what the process built before)."""
    import signal

    from trtforge.tensorrt import trt as trt_module

    original_poll = trt_module._Logger._poll
    original_build = trt_module.TensorRT.build
    state = {"building": False, "fired": False}

    def build(self: Any, *args: Any, **kwargs: Any) -> Any:
        state["building"] = True
        return original_build(self, *args, **kwargs)

    def poll(self: Any) -> bool:
        if state["building"] and not state["fired"]:
            state["fired"] = True
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C does
        return original_poll(self)

    monkeypatch.setattr(trt_module.TensorRT, "build", build)
    monkeypatch.setattr(trt_module._Logger, "_poll", poll)
    return state
