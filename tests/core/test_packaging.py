"""Packaging that fits a GPU box: ranges not pins, core and each plugin install alone.

Core, every plugin and the zoo are installed (plugins and zoo without their heavy dependencies)
into fresh virtual environments of Python 3.10 and 3.12 where those interpreters exist; plugin
discovery must work there and say why a route is unavailable, and the core wheel holds neither
the zoo nor the demo.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROUTES = sorted((ROOT / "plugins").glob("*/pyproject.toml"))
ZOO = ROOT / "zoo" / "pyproject.toml"
PYPROJECTS = [ROOT / "core" / "pyproject.toml", *ROUTES, ZOO]


def _dependencies(pyproject: Path) -> list[str]:
    import tomllib

    project = tomllib.loads(pyproject.read_text())["project"]
    deps = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        deps.extend(extra)
    return deps


@pytest.mark.parametrize("pyproject", PYPROJECTS, ids=lambda p: p.parent.name)
def test_metadata_uses_ranges_not_pins(pyproject: Path) -> None:
    pinned = [d for d in _dependencies(pyproject) if re.search(r"==|===", d)]
    assert pinned == [], f"{pyproject}: pins belong in constraints.txt, not package metadata"


def _interpreter(version: str) -> str | None:
    for candidate in (shutil.which(f"python{version}"),
                      *sorted(Path("/root/.pyenv/versions").glob(f"{version}.*/bin/python"))):
        if candidate and Path(candidate).exists():
            probe = subprocess.run([str(candidate), "-c", "import sys; print(sys.version_info[:2])"],
                                   capture_output=True, text=True)
            if probe.returncode == 0:
                return str(candidate)
    return None


@pytest.mark.slow
@pytest.mark.parametrize("version", ["3.10", "3.12"])
def test_core_and_plugins_install_alone(version: str, tmp_path: Path) -> None:
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"no Python {version} interpreter on this machine")
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    # Install from copies: a non-editable install writes build/ folders into the source tree.
    ignore = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    core = shutil.copytree(ROOT / "core", tmp_path / "src" / "core", ignore=ignore)
    subprocess.run([*pip, str(core)], check=True, capture_output=True, timeout=600)
    python = str(venv / "bin" / "python")
    probe = "import importlib.util as u; print([m for m in ('trtforge.zoo', 'trtforge.demo', " \
            "'trtforge_zoo') if u.find_spec(m)])"
    alone = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120)
    assert alone.stdout.strip() == "[]", alone.stdout + alone.stderr  # no zoo in the core wheel
    plugin_dirs = [shutil.copytree(p.parent, tmp_path / "src" / p.parent.name, ignore=ignore)
                   for p in ROUTES]
    zoo = shutil.copytree(ZOO.parent, tmp_path / "src" / "zoo", ignore=ignore)
    for plugin in [*plugin_dirs, zoo]:
        # --no-deps: the route's frameworks are not needed to install it or to discover it.
        subprocess.run([*pip, "--no-deps", str(plugin)], check=True, capture_output=True, timeout=600)
    result = subprocess.run([str(venv / "bin" / "trtforge"), "plugins", "--json"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = {p["name"]: p for p in json.loads(result.stdout)}
    assert all(not p["broken"] for p in report.values()), report
    backends = [b for p in report.values() for b in p["backends"]]
    assert len(backends) == len(plugin_dirs)
    for backend in backends:
        assert backend["available"] is False and "not installed" in backend["reason"], backend
    assert report["zoo"]["backends"] == [], report["zoo"]
    demo = subprocess.run([str(venv / "bin" / "trtforge"), "demo", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert demo.returncode == 0 and "--models" in demo.stdout, demo.stderr
