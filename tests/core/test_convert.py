"""convert(): route selection, auto fallback with recorded failures, bad arguments."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

import trtforge
from trtforge.errors import (AllRoutesFailedError, BackendNotFoundError, ConversionError,
                             ModelSourceError, UsageError)
from tiny_route import TinyBackend, TinyModel, TinyPlugin


def test_auto_falls_back_and_records_failure(plugin_registry: Callable[..., str]) -> None:
    broken, working = TinyBackend("first", priority=1, always_fail=True), TinyBackend("second", priority=2)
    plugin_registry(TinyPlugin(broken, working), name="pair")
    engine = trtforge.convert(TinyModel(), target="sm89", cache=False)
    assert engine.route == "second"
    assert engine.metadata["fallbacks"] == {"first": "first refuses this model [unsupported: tiny.Fail x1]"}
    assert broken.populated == 1 and working.populated == 1


def test_auto_reports_every_failure(plugin_registry: Callable[..., str]) -> None:
    plugin_registry(TinyPlugin(TinyBackend("a", 1), TinyBackend("b", 2)), name="pair")
    with pytest.raises(AllRoutesFailedError) as info:
        trtforge.convert(TinyModel(fail=True), target="sm89", cache=False)
    assert set(info.value.failures) == {"a", "b"}
    assert "every route failed" in info.value.message


def test_explicit_backend_raises_its_own_error(tiny: Any) -> None:
    with pytest.raises(ConversionError, match="tiny refuses"):
        trtforge.convert(TinyModel(fail=True), backend="tiny", target="sm89", cache=False)


def test_unknown_backend_and_precision(tiny: Any) -> None:
    with pytest.raises(BackendNotFoundError) as info:
        trtforge.convert(TinyModel(), backend="nope", target="sm89", cache=False)
    assert "tiny" in (info.value.hint or "")
    with pytest.raises(UsageError, match="unknown precision"):
        trtforge.convert(TinyModel(), backend="tiny", precision="fp64", target="sm89", cache=False)


def test_no_target_on_a_machine_without_gpu(tiny: Any) -> None:
    with pytest.raises(UsageError, match="no GPU") as info:
        trtforge.convert(TinyModel(), backend="tiny", cache=False)
    assert "sm89" in (info.value.hint or "")


def test_bad_model_inputs(tmp_path: Path, tiny: Any) -> None:
    with pytest.raises(ModelSourceError, match="not found"):
        trtforge.convert(tmp_path / "missing.onnx", target="sm89")
    odd = tmp_path / "weights.xyz"
    odd.write_bytes(b"1234")
    with pytest.raises(ModelSourceError, match="cannot tell what kind of model the file"):
        trtforge.convert(odd, target="sm89")
    with pytest.raises(ModelSourceError, match="cannot tell what kind of model the directory"):
        trtforge.convert(tmp_path, target="sm89")
    with pytest.raises(ModelSourceError, match="builtins.int"):
        trtforge.convert(42, target="sm89")


def test_example_arrays_become_input_specs(tiny: Any) -> None:
    import numpy as np

    engine = trtforge.convert(TinyModel(), backend="tiny", inputs=[np.zeros((1, 3, 8, 8), np.float32)],
                              target="sm89", cache=False)
    assert engine.metadata["profiles"][0]["name"] == "x"


def test_a_route_refuses_options_it_does_not_know_before_building(tiny: TinyBackend) -> None:
    """Each route validates options with its own schema (Backend.validate_options); a route
    that takes none refuses any, naming them, and nothing is populated."""
    with pytest.raises(UsageError, match="route tiny takes no options, got opset, typo"):
        trtforge.convert(TinyModel(), backend="tiny", target="sm89", cache=False,
                         options={"typo": 1, "opset": 17})
    assert tiny.populated == 0
