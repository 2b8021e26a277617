"""Plugins: in-process, from entry points of a real installed distribution, broken, duplicates."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

import pytest

from trtforge import hookimpl

from trtforge.plugin import plugins
from trtforge.plugin.backends import registry
from trtforge.errors import BackendNotFoundError, PluginError
from tiny_route import TinyBackend, TinyPlugin

TESTS = Path(__file__).parent


def test_in_process_plugin_registers_backend(plugin_registry: Callable[..., str]) -> None:
    name = plugin_registry(TinyPlugin(TinyBackend("inproc")), name="inproc-plugin")
    assert "inproc" in registry().names()
    info = {p.name: p for p in plugins.plugin_infos()}[name]
    assert "register_backends" in info.hooks and "register_model_formats" in info.hooks
    plugins.unregister(name)
    assert "inproc" not in registry().names()


def test_duplicate_backend_names_raise(plugin_registry: Callable[..., str]) -> None:
    plugin_registry(TinyPlugin(TinyBackend("dup")), name="first")

    class Second:
        @hookimpl
        def register_backends(self, register: Any) -> None:
            register(TinyBackend("dup"))

    with pytest.raises(PluginError, match="'dup' is registered twice: by plugin 'first' and by plugin 'second'"):
        plugin_registry(Second(), name="second")
    assert "second" not in [p.name for p in plugins.plugin_infos()], "rejected plugin is not kept"


def test_unknown_backend_lists_available(plugin_registry: Callable[..., str]) -> None:
    plugin_registry(TinyPlugin(TinyBackend("alpha")), name="alpha-plugin")
    with pytest.raises(BackendNotFoundError) as info:
        registry().get("nope")
    assert "unknown backend 'nope'" in info.value.message
    assert "alpha" in (info.value.hint or "")


def test_backend_must_be_a_backend(plugin_registry: Callable[..., str]) -> None:
    class Bad:
        @hookimpl
        def register_backends(self, register: Any) -> None:
            register("not a backend")

    plugin_registry(Bad(), name="bad")
    with pytest.raises(PluginError, match="not a trtforge.Backend"):
        registry()


DIST_PYPROJECT = """
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "trtforge-testplug"
version = "3.1.4"

[project.entry-points.trtforge]
testplug = "trtforge_testplug"
brokenplug = "trtforge_brokenplug"

[tool.setuptools]
py-modules = ["trtforge_testplug", "trtforge_brokenplug"]
"""

GOOD_MODULE = """
from trtforge import Availability, Backend, hookimpl


class EntryPointBackend(Backend):
    name = "from_entry_point"
    priority = 900

    def is_available(self):
        return Availability(False, "frobnicator not installed")

    def accepts(self, source):
        return False

    def populate(self, network, source, spec, ctx):
        raise RuntimeError("never called")


@hookimpl
def register_backends(register):
    register(EntryPointBackend())


@hookimpl
def register_commands(register):
    register("hello", "say hello", configure=None, run=lambda args: print("hello from plugin") or 0)
"""

BROKEN_MODULE = "raise ImportError('this plugin needs libfrob')\n"


@pytest.fixture(scope="module")
def installed_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build and install a tiny plugin distribution with pip into its own site folder."""
    root = tmp_path_factory.mktemp("dist")
    src = root / "src"
    src.mkdir()
    (src / "pyproject.toml").write_text(DIST_PYPROJECT)
    (src / "trtforge_testplug.py").write_text(GOOD_MODULE)
    (src / "trtforge_brokenplug.py").write_text(BROKEN_MODULE)
    site = root / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(site), str(src)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return site


def _cli(site: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(site), **(env or {})}
    return subprocess.run([sys.executable, "-m", "trtforge", *args], capture_output=True,
                          text=True, env=full_env, timeout=120)


def test_entry_point_plugin_and_broken_plugin(installed_dist: Path) -> None:
    result = _cli(installed_dist, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    report = {p["name"]: p for p in json.loads(result.stdout)}
    good = report["testplug"]
    assert good["distribution"] == "trtforge-testplug" and good["version"] == "3.1.4"
    assert good["backends"] == [{"name": "from_entry_point", "priority": 900, "available": False,
                                 "reason": "frobnicator not installed"}]
    assert "register_commands" in good["hooks"]
    assert report["brokenplug"]["broken"] == "ImportError: this plugin needs libfrob"
    table = _cli(installed_dist, "plugins")
    assert "BROKEN" in table.stdout and "frobnicator not installed" in table.stdout


def test_plugin_command(installed_dist: Path) -> None:
    result = _cli(installed_dist, "hello")
    assert result.returncode == 0 and "hello from plugin" in result.stdout


def test_allow_and_deny_lists(installed_dist: Path) -> None:
    denied = json.loads(_cli(installed_dist, "plugins", "--json",
                             env={"TRTFORGE_DISABLE_PLUGINS": "testplug,brokenplug"}).stdout)
    names = {p["name"] for p in denied}
    assert "testplug" not in names and "brokenplug" not in names
    allowed = json.loads(_cli(installed_dist, "plugins", "--json",
                              env={"TRTFORGE_LOAD_PLUGINS": "testplug"}).stdout)
    # core's two plugins (model formats; the CLI's commands) are not subject to the lists
    assert {p["name"] for p in allowed} == {"trtforge.plugin.builtin", "trtforge.cli", "testplug"}
