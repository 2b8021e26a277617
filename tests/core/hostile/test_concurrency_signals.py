"""Concurrency and signals: clear vs writers, concurrent converts, Ctrl-C and SIGTERM mid-build."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from trtforge.conversion.cache import EngineCache


def _env(tmp: Path, cache: Path) -> dict[str, str]:
    root = Path(__file__).resolve().parents[3]
    paths = [root / "core" / "src", root / "plugins" / "onnx_trt" / "src",
             root / "plugins" / "torch2trt" / "src"]
    return {**os.environ, "TMPDIR": str(tmp), "TRTFORGE_CACHE_DIR": str(cache),
            "PYTHONPATH": os.pathsep.join(map(str, paths))}


def _convert_cmd(model: Path, out: Path | None, *extra: str) -> list[str]:
    cmd = [sys.executable, "-m", "trtforge", "convert", str(model), "--backend", "onnx_trt",
           "--target", "sm89"]
    return cmd + (["-o", str(out)] if out else []) + list(extra)


@pytest.mark.parametrize("hold", ["shared-writer", "two-writers"])
def test_clear_waits_for_writers(scene: Any, artifacts: dict[str, Path], hold: str) -> None:
    from trtforge.cli import main

    cache = scene.path("cache")
    assert main(["convert", str(artifacts["model"]), "--backend", "onnx_trt", "--target", "sm89",
                 "--cache-dir", str(cache)]) == 0
    scene.capsys.readouterr()
    done: list[int] = []
    holders = [EngineCache(cache).writing() for _ in range(2 if hold == "two-writers" else 1)]
    for h in holders:
        h.__enter__()
    worker = threading.Thread(target=lambda: done.append(EngineCache(cache).clear()))
    worker.start()
    time.sleep(0.3)
    assert worker.is_alive() and not done
    for h in holders:
        h.__exit__(None, None, None)
    worker.join(10)
    assert done == [1] and EngineCache(cache).entries() == []


def test_concurrent_converts_and_clears_never_fail_a_build(tmp_path: Path,
                                                           artifacts: dict[str, Path]) -> None:
    tmp, cache = tmp_path / "tmp", tmp_path / "cache"
    tmp.mkdir()
    env = _env(tmp, cache)
    converts = [subprocess.Popen(_convert_cmd(artifacts["model"], tmp_path / f"o{i}.engine", "--snapshot"),
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for i in range(2)]
    clears = 0
    while any(p.poll() is None for p in converts):
        subprocess.run([sys.executable, "-m", "trtforge", "cache", "clear", "--cache-dir", str(cache)],
                       env=env, capture_output=True, timeout=120)
        clears += 1
    for p in converts:
        out, err = p.communicate()
        assert p.returncode == 0, err
        assert "Traceback" not in err
    assert clears >= 1
    plans = {(tmp_path / f"o{i}.engine").read_bytes() for i in range(2)}
    assert len(plans) >= 1
    for entry in EngineCache(cache).entries():
        assert entry.error is None, entry
    assert not [p for p in tmp.iterdir() if p.name.startswith("trtforge-")]  # others' files aside
    assert not [p for p in cache.rglob(".*") if p.is_dir() and p.name not in (".locks",)]


def test_ctrl_c_during_build_exits_130_and_writes_nothing(scene: Any, artifacts: dict[str, Path],
                                                          ctrl_c_during_build: dict[str, bool]) -> None:
    model = scene.copy(artifacts["model"])
    scene.run("convert", model, "--backend", "onnx_trt", "--target", "sm89", "--cache-dir",
              scene.path("cache"), "-o", scene.path("out.engine"), "--snapshot",
              allow_new=["cache", "cache/.trtforge-cache", "cache/.locks"])
    assert ctrl_c_during_build["fired"] and scene.code == 130 and "interrupted" in scene.err
    assert not scene.path("out.engine").exists()
    assert EngineCache(scene.path("cache")).entries() == []
    assert not list(scene.tmpdir.iterdir())


@pytest.mark.parametrize("when", ["export", "passes"])
def test_sigterm_mid_conversion_leaves_nothing(tmp_path: Path, artifacts: dict[str, Path], when: str) -> None:
    tmp, cache = tmp_path / "tmp", tmp_path / "cache"
    tmp.mkdir()
    out = tmp_path / "out.engine"
    proc = subprocess.Popen(_convert_cmd(artifacts["model"], out), env=_env(tmp, cache),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if f"onnx_trt: {when}" in line:
            proc.send_signal(signal.SIGTERM)
            break
    proc.wait(120)
    assert proc.returncode in (143, -signal.SIGTERM), proc.returncode
    assert not out.exists() and not Path(str(out) + ".json").exists()
    assert not [p for p in tmp.iterdir() if p.name.startswith("trtforge-")], list(tmp.iterdir())
    assert EngineCache(cache).entries() == []
