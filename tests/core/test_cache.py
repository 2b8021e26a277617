"""Engine cache: hits skip the builder, keys change with the request, corruption is healed."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import trtforge
from trtforge import InputSpec
from trtforge.conversion.cache import EngineCache
from trtforge.conversion.engine import sidecar_path


def _convert(model: Any, cache: EngineCache, **kwargs: Any) -> trtforge.Engine:
    kwargs.setdefault("target", "sm89")
    return trtforge.convert(model, backend="tiny", cache=cache, **kwargs)


def test_second_identical_convert_is_a_hit(tiny: Any, tiny_model: Any, trtforge_cache: EngineCache,
                                           tensorrt: Any) -> None:
    first = _convert(tiny_model, trtforge_cache)
    builds = tensorrt.build_count
    second = _convert(tiny_model, trtforge_cache)
    assert tensorrt.build_count == builds, "the builder must not run on a hit"
    assert tiny.populated == 1
    assert first.metadata["cache"]["hit"] is False and second.metadata["cache"]["hit"] is True
    assert first.plan == second.plan


@pytest.mark.parametrize("change", [
    {"precision": "fp16"},
    {"inputs": [InputSpec("x", min=(1, 3, 8, 8), opt=(2, 3, 8, 8), max=(4, 3, 8, 8))]},
    {"target": "sm86"},
    {"optimization_level": 1},
])
def test_different_request_is_a_miss(change: dict, tiny: Any, tiny_model: Any,
                                      trtforge_cache: EngineCache, tensorrt: Any) -> None:
    _convert(tiny_model, trtforge_cache)
    builds = tensorrt.build_count
    engine = _convert(tiny_model, trtforge_cache, **change)
    assert tensorrt.build_count == builds + 1
    assert engine.metadata["cache"]["hit"] is False
    assert len(trtforge_cache.entries()) == 2


def test_different_weights_is_a_miss(tiny: Any, trtforge_cache: EngineCache) -> None:
    from tiny_route import TinyModel

    _convert(TinyModel(seed=1), trtforge_cache)
    assert _convert(TinyModel(seed=2), trtforge_cache).metadata["cache"]["hit"] is False


@pytest.mark.parametrize("damage", ["truncate", "sidecar", "delete-plan"])
def test_corrupt_entry_is_removed_and_rebuilt(damage: str, tiny: Any, tiny_model: Any,
                                              trtforge_cache: EngineCache, tensorrt: Any,
                                              caplog: pytest.LogCaptureFixture) -> None:
    _convert(tiny_model, trtforge_cache)
    (entry,) = trtforge_cache.entries()
    plan = entry.path / "engine.plan"
    if damage == "truncate":
        plan.write_bytes(plan.read_bytes()[:50])
    elif damage == "sidecar":
        sidecar_path(plan).write_text("garbage")
    else:
        plan.unlink()
    builds = tensorrt.build_count
    with caplog.at_level("WARNING"):
        engine = _convert(tiny_model, trtforge_cache)
    assert tensorrt.build_count == builds + 1
    assert "corrupt" in caplog.text
    assert engine.metadata["cache"]["hit"] is False
    (healed,) = trtforge_cache.entries()
    assert healed.error is None
    assert _convert(tiny_model, trtforge_cache).metadata["cache"]["hit"] is True


def test_cache_false_writes_nothing(tiny: Any, tiny_model: Any, trtforge_cache: EngineCache) -> None:
    trtforge.convert(tiny_model, backend="tiny", target="sm89", cache=False)
    assert trtforge_cache.entries() == []


def test_clear(tiny: Any, tiny_model: Any, trtforge_cache: EngineCache) -> None:
    _convert(tiny_model, trtforge_cache)
    assert trtforge_cache.clear() == 1
    assert trtforge_cache.entries() == []


WORKER = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests!r})
    import trtforge
    from tiny_route import TinyModel, TinyPlugin
    trtforge.plugins.register(TinyPlugin(), name="tiny-plugin")
    engine = trtforge.convert(TinyModel(), backend="tiny", target="sm89", cache={cache!r})
    print(json.dumps(engine.metadata["cache"]))
""")


def test_two_processes_converting_at_once(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    cache_dir = tmp_path / "cache"
    script.write_text(WORKER.format(tests=str(Path(__file__).parent), cache=str(cache_dir)))
    procs = [subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["hit"] for r in results) == [False, True]
    (entry,) = EngineCache(cache_dir).entries()
    assert entry.error is None
    assert trtforge.Engine.load(entry.path / "engine.plan").route == "tiny"
    leftovers = [p for p in cache_dir.rglob("*") if p.name.startswith(".") and p.is_dir()
                 and p.name != ".locks"]
    assert leftovers == []
