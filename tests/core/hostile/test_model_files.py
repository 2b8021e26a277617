"""Hostile model files given to convert and check: a one-line ModelSourceError, source untouched."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import pytest


def _bytes(name: str, data: bytes) -> Callable[[Any, Path], Path]:
    def make(scene: Any, artifacts: dict[str, Path]) -> Path:
        path = scene.path(name)
        path.write_bytes(data)
        return path
    return make


def _truncated(scene: Any, artifacts: dict[str, Path]) -> Path:
    path = scene.path("cut.onnx")
    path.write_bytes(artifacts["model"].read_bytes()[:200])
    return path


def _fifo(scene: Any, artifacts: dict[str, Path]) -> Path:
    path = scene.path("pipe.onnx")
    os.mkfifo(path)
    return path


def _empty_dir(scene: Any, artifacts: dict[str, Path]) -> Path:
    path = scene.path("empty_dir")
    path.mkdir()
    return path


def _dir_of_junk(scene: Any, artifacts: dict[str, Path]) -> Path:
    path = scene.path("junk_dir")
    path.mkdir()
    (path / "saved_model.pb").write_bytes(b"\x00garbage")
    return path


def _dangling(scene: Any, artifacts: dict[str, Path]) -> Path:
    path = scene.path("dangling.onnx")
    path.symlink_to(scene.path("nowhere.onnx"))
    return path


def _missing(scene: Any, artifacts: dict[str, Path]) -> Path:
    return scene.path("missing.onnx")


def _python(name: str, code: str) -> Callable[[Any, Path], Path]:
    return _bytes(name, code.encode())


MODELS: dict[str, Callable[[Any, dict[str, Path]], Path]] = {
    "empty-onnx": _bytes("empty.onnx", b""),
    "garbage-onnx": _bytes("garbage.onnx", b"\x08\x07garbage\xff\xfe" * 10),
    "text-onnx": _bytes("text.onnx", b"this is not a model\n"),
    "truncated-onnx": _truncated,
    "zip-as-onnx": _bytes("zip.onnx", b"PK\x03\x04" + b"\0" * 40),
    "fifo-onnx": _fifo,
    "unknown-suffix": _bytes("model.xyz", b"abc"),
    "empty-h5": _bytes("m.h5", b""),
    "empty-keras": _bytes("m.keras", b""),
    "garbage-pb": _bytes("frozen.pb", b"\xff" * 64),
    "empty-dir": _empty_dir,
    "junk-savedmodel": _dir_of_junk,
    "dangling-link": _dangling,
    "missing": _missing,
    "py-sys-exit": _python("exits.py", "import sys\nsys.exit(3)\n"),
    "py-sys-exit-0": _python("exits0.py", "raise SystemExit(0)\n"),
    "py-raises": _python("raises.py", "raise RuntimeError('boom [/x]')\n"),
    "py-syntax": _python("syntax.py", "def (:\n"),
    "py-no-model": _python("nomodel.py", "x = 1\n"),
    "py-bad-attr": _python("attr.py", "x = 1\n"),
}


def _spec(name: str, path: Path) -> str:
    return f"{path}:missing_attr" if name == "py-bad-attr" else str(path)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_hostile_model_in_convert(scene: Any, artifacts: dict[str, Path], name: str) -> None:
    path = MODELS[name](scene, artifacts)
    scene.run("convert", _spec(name, path), "--target", "sm89", "--no-cache", "-o", "out.engine")
    scene.assert_failure(1, path.name)
    assert not scene.path("out.engine").exists()


@pytest.mark.parametrize("name", ["empty-onnx", "garbage-onnx", "truncated-onnx", "fifo-onnx",
                                  "missing", "empty-dir", "unknown-suffix", "py-sys-exit"])
def test_hostile_model_in_check(scene: Any, artifacts: dict[str, Path], name: str) -> None:
    engine = scene.copy_engine(artifacts)
    path = MODELS[name](scene, artifacts)
    scene.run("check", _spec(name, path), engine).assert_failure(1, path.name)
