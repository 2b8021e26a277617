"""The CLI: one-line errors with a hint and non-zero exit codes; doctor, inspect, cache."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import trtforge
from trtforge.cli import main
from trtforge.conversion.engine import sidecar_path


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trtforge", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert lines and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return "\n".join(lines)


def test_help_is_fast_and_lists_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("convert", "inspect", "doctor", "plugins", "cache"):
        assert command in result.stdout


def test_help_imports_no_framework() -> None:
    code = ("import sys; from trtforge.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch','tensorflow','tensorrt_rtx','onnx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


def test_doctor_says_it_can_build_ahead_of_time_and_cannot_run() -> None:
    result = run_cli("doctor", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["tensorrt"]["flavor"] == "tensorrt_rtx"
    assert report["can_build"]["ok"] is True and "ahead of time" in report["can_build"]["why"]
    assert report["can_run"]["ok"] is False and report["can_run"]["why"]
    table = run_cli("doctor")
    assert "can run engines" in table.stdout and "no —" in table.stdout


@pytest.mark.parametrize("args, fragment, code", [
    (["convert", "missing.onnx", "--target", "sm89"], "model file not found", 1),
    (["convert", ".", "--target", "sm89"], "cannot tell what kind of model the directory", 1),
    (["convert", "x.onnx", "--precision", "fp7"], "unknown precision 'fp7'", 2),
    (["convert", "x.onnx", "--target", "potato"], "cannot parse GPU target", 2),
    (["convert", "x.onnx", "--input", "x:1xZ"], "cannot parse shape", 2),
    (["inspect", "nope.engine"], "engine file not found", 1),
    (["inspect", "."], "is a directory", 1),
])
def test_bad_input_gives_one_line_and_hint(args: list[str], fragment: str, code: int,
                                          tmp_path: Path) -> None:
    (tmp_path / "x.onnx").write_bytes(b"")
    result = subprocess.run([sys.executable, "-m", "trtforge", *args], capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)
    assert result.returncode == code, result.stderr
    assert fragment in one_line_error(result)


def test_unknown_backend_lists_available(tmp_path: Path) -> None:
    onnx_file = tmp_path / "m.onnx"
    onnx_file.write_bytes(b"x")
    result = run_cli("convert", str(onnx_file), "--backend", "nope", "--target", "sm89")
    assert result.returncode == 2
    text = one_line_error(result)
    assert "unknown backend 'nope'" in text and "hint: available backends:" in text


def test_debug_shows_traceback() -> None:
    result = run_cli("--debug", "inspect", "nope.engine")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_inspect_table_and_json(tiny: Any, tiny_model: Any, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    path = trtforge.convert(tiny_model, backend="tiny", target="sm89", cache=False).save(tmp_path / "t.engine")
    assert main(["inspect", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["route"] == "tiny" and data["plan"]["size"] == path.stat().st_size
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "sm89" in out and "tensorrt_rtx 1.7.1" in out and "float32" in out
    path.write_bytes(path.read_bytes()[:10])
    assert main(["inspect", str(path)]) == 1
    assert "truncated" in capsys.readouterr().err
    sidecar_path(path).unlink()
    assert main(["inspect", str(path)]) == 1


def test_convert_and_cache_commands(tiny: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from tiny_route import TinyModel
    from trtforge.models.sources import ModelFormat

    # The CLI takes paths; map a marker file to the tiny model through a real format plugin.
    marker = tmp_path / "model.tiny"
    marker.write_text("tiny")

    class Files:
        @trtforge.hookimpl
        def register_model_formats(self, register: Any) -> None:
            register(ModelFormat("tiny-file", "tiny marker file", lambda p: str(p).endswith(".tiny"),
                                 load=lambda p: TinyModel()))

    trtforge.plugins.register(Files(), name="tiny-files")
    try:
        cache_dir = tmp_path / "cache"
        out = tmp_path / "m.engine"
        args = ["convert", str(marker), "--target", "sm89", "--cache-dir", str(cache_dir), "-o", str(out)]
        assert main(args) == 0
        first = capsys.readouterr().out
        assert "via tiny at fp32 for sm89" in first and out.is_file() and sidecar_path(out).is_file()
        assert main(args) == 0
        assert "(from cache)" in capsys.readouterr().out
        assert main(["cache", "list", "--cache-dir", str(cache_dir), "--json"]) == 0
        entries = json.loads(capsys.readouterr().out)
        assert len(entries) == 1 and entries[0]["metadata"]["route"] == "tiny"
        assert main(["cache", "clear", "--cache-dir", str(cache_dir)]) == 0
        assert "removed 1" in capsys.readouterr().out
    finally:
        trtforge.plugins.unregister("tiny-files")
