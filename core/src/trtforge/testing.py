"""Pytest fixtures for trtforge and for plugin authors (``pytest_plugins = ["trtforge.testing"]``).

- ``trtforge_cache``: an empty engine cache folder, also set as ``TRTFORGE_CACHE_DIR``.
- ``plugin_registry``: register plugins in process for one test; they are gone afterwards.
- ``sm89``: the default ahead-of-time target used by tests on GPU-less machines.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from trtforge.plugin import plugins
from trtforge.conversion.cache import CACHE_ENV, EngineCache


@pytest.fixture
def trtforge_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EngineCache:
    root = tmp_path / "engine-cache"
    monkeypatch.setenv(CACHE_ENV, str(root))
    return EngineCache(root)


@pytest.fixture
def plugin_registry() -> Iterator[Callable[..., str]]:
    """Yield ``register(obj, name=None)``; every plugin registered through it is removed after."""
    names: list[str] = []

    def register(obj: Any, name: str | None = None) -> str:
        registered = plugins.register(obj, name=name)
        names.append(registered)
        return registered

    yield register
    for name in reversed(names):
        try:
            plugins.unregister(name)
        except Exception:  # already removed by the test itself
            pass


@pytest.fixture
def sm89() -> str:
    return "sm89"
