"""Hostile cache entries and cache folders: poisoned entries are evicted and rebuilt (exit 0,
nothing else touched); ``cache clear`` refuses folders that are not caches."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from trtforge.conversion.cache import EngineCache


def _entry(cache: Path) -> Path:
    (entry,) = EngineCache(cache).entries()
    return entry.path


def _side(entry: Path, text: str) -> None:
    (entry / "engine.plan.json").write_text(text)


def _edit(**changes: Any) -> Callable[[Path], None]:
    def apply(entry: Path) -> None:
        meta = json.loads((entry / "engine.plan.json").read_text())
        meta.update(changes)
        _side(entry, json.dumps(meta))
    return apply


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda entry: (entry / name).write_bytes(data)


def _unlink(name: str) -> Callable[[Path], None]:
    return lambda entry: (entry / name).unlink()


def _snapshot_of_other(entry: Path) -> None:
    graph = json.loads((entry / "snapshot.json").read_text())
    graph["binding"]["plan_sha256"] = "0" * 64
    (entry / "snapshot.json").write_text(json.dumps(graph))


def _fifo_plan(entry: Path) -> None:
    (entry / "engine.plan").unlink()
    os.mkfifo(entry / "engine.plan")


ENTRY_POISONS: dict[str, Callable[[Path], None]] = {
    "plan-not-dict": _edit(plan="x"),
    "plan-null": _edit(plan=None),
    "inputs-string": _edit(inputs="x"),
    "outputs-dicts": _edit(outputs=[{"name": 1}]),
    "tensorrt-string": _edit(tensorrt="tensorrt_rtx"),
    "notes-nested": _edit(notes=[[["x"]]]),
    "deep-sidecar": lambda e: _side(e, '{"a":' * 100000 + "1" + "}" * 100000),
    "empty-sidecar": lambda e: _side(e, ""),
    "list-sidecar": lambda e: _side(e, "[]"),
    "no-sidecar": _unlink("engine.plan.json"),
    "no-plan": _unlink("engine.plan"),
    "truncated-plan": _write("engine.plan", b"vtrt"),
    "fifo-plan": _fifo_plan,
    "snapshot-json-garbage": _write("snapshot.json", b"{garbage"),
    "snapshot-json-list": _write("snapshot.json", b"[]"),
    "snapshot-npz-garbage": _write("snapshot.npz", b"not a zip"),
    "snapshot-npz-empty": _write("snapshot.npz", b""),
    "snapshot-half": _unlink("snapshot.npz"),
    "snapshot-of-other-plan": _snapshot_of_other,
    "snapshot-deep": _write("snapshot.json", b"[" * 100000 + b"]" * 100000),
}


@pytest.fixture(scope="module")
def built_cache(tmp_path_factory: pytest.TempPathFactory, artifacts: dict[str, Path]) -> Path:
    from trtforge.cli import main

    cache = tmp_path_factory.mktemp("hostile-cache") / "cache"
    assert main(["convert", str(artifacts["model"]), "--backend", "onnx_trt", "--target", "sm89",
                 "--cache-dir", str(cache)]) == 0
    return cache


@pytest.mark.parametrize("poison", sorted(ENTRY_POISONS))
def test_poisoned_entry_is_evicted_and_rebuilt(scene: Any, artifacts: dict[str, Path],
                                              built_cache: Path, poison: str) -> None:
    cache = scene.path("cache")
    shutil.copytree(built_cache, cache)
    model = scene.copy(artifacts["model"])
    entry = _entry(cache)
    ENTRY_POISONS[poison](entry)
    # cache list shows the poisoned entry without failing
    scene.run("cache", "list", "--cache-dir", cache, "--json")
    assert scene.code == 0 and "Traceback" not in scene.err
    json.loads(scene.out)
    out = scene.path("t.engine")
    scene.run("convert", model, "--backend", "onnx_trt", "--target", "sm89", "--cache-dir", cache,
              "-o", out, "--snapshot")
    assert scene.code == 0, scene.err
    assert "(from cache)" not in scene.out
    assert out.is_file() and Path(str(out) + ".json").is_file()
    assert scene.run("check", model, out).code == 0, scene.err
    (fresh,) = EngineCache(cache).entries()
    assert fresh.error is None


FOLDERS: dict[str, Callable[[Path], Path]] = {}


def _folder(name: str) -> Callable[[Callable[[Path], Path]], Callable[[Path], Path]]:
    def register(make: Callable[[Path], Path]) -> Callable[[Path], Path]:
        FOLDERS[name] = make
        return make
    return register


@_folder("project")
def _project(root: Path) -> Path:
    (root / "project" / "src").mkdir(parents=True)
    (root / "project" / "src" / "main.py").write_text("print('mine')\n")
    return root / "project"


@_folder("home-like")
def _home(root: Path) -> Path:
    (root / "home" / ".ssh").mkdir(parents=True)
    (root / "home" / ".ssh" / "id").write_text("secret\n")
    (root / "home" / "notes.txt").write_text("x\n")
    return root / "home"


@_folder("hex-named-but-not-entries")
def _hexish(root: Path) -> Path:
    (root / "hx" / "ab" / "cd").mkdir(parents=True)
    (root / "hx" / "ab" / "cd" / "file").write_text("x\n")
    return root / "hx"


@_folder("a-file")
def _a_file(root: Path) -> Path:
    (root / "plain.txt").write_text("x\n")
    return root / "plain.txt"


@_folder("only-locks-named-like-cache")
def _only_dot(root: Path) -> Path:
    (root / "dots" / ".locks").mkdir(parents=True)
    (root / "dots" / "data.csv").write_text("1,2\n")
    return root / "dots"


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_cache_clear_refuses_a_folder_that_is_not_a_cache(scene: Any, name: str) -> None:
    target = FOLDERS[name](scene.root)
    scene.run("cache", "clear", "--cache-dir", target).assert_failure(1, target.name)


@pytest.mark.parametrize("extra", ["user-file", "user-dir-in-shard", "stale-staging"])
def test_cache_clear_removes_only_what_the_cache_owns(scene: Any, built_cache: Path, extra: str) -> None:
    cache = scene.path("cache")
    shutil.copytree(built_cache, cache)
    entry = _entry(cache)
    keep = {"user-file": cache / "README.md", "user-dir-in-shard": entry.parent / "mine" / "a.txt"}
    if extra == "stale-staging":
        (entry.parent / f".{entry.name[:12]}.p{2 ** 22 + 7}.zz").mkdir()
    else:
        keep[extra].parent.mkdir(parents=True, exist_ok=True)
        keep[extra].write_text("mine\n")
    scene.before = {}
    from trtforge.cli import main

    assert main(["cache", "clear", "--cache-dir", str(cache)]) == 0
    assert "removed 1 engine(s)" in scene.capsys.readouterr().out
    assert not entry.exists()
    if extra in keep:
        assert keep[extra].read_text() == "mine\n"
    assert not list(cache.rglob(f".{entry.name[:12]}*"))
