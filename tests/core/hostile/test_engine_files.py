"""Hostile engine files and sidecars under inspect, bench and check: refused, the file named."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import pytest


def _meta(scene: Any, engine: Path) -> dict[str, Any]:
    return json.loads(Path(str(engine) + ".json").read_text())


def _write(engine: Path, data: Any) -> None:
    Path(str(engine) + ".json").write_text(data if isinstance(data, str) else json.dumps(data))


def _edit(**changes: Any) -> Callable[[Any, Path], str]:
    def apply(scene: Any, engine: Path) -> str:
        meta = _meta(scene, engine)
        for key, value in changes.items():
            if "." in key:
                outer, inner = key.split(".")
                meta[outer][inner] = value
            else:
                meta[key] = value
        _write(engine, meta)
        return "sidecar"
    return apply


def _drop(key: str) -> Callable[[Any, Path], str]:
    def apply(scene: Any, engine: Path) -> str:
        meta = _meta(scene, engine)
        del meta[key]
        _write(engine, meta)
        return key
    return apply


def _raw(text: str) -> Callable[[Any, Path], str]:
    def apply(scene: Any, engine: Path) -> str:
        _write(engine, text)
        return "sidecar"
    return apply


def _no_sidecar(scene: Any, engine: Path) -> str:
    Path(str(engine) + ".json").unlink()
    return "sidecar"


def _sidecar_dir(scene: Any, engine: Path) -> str:
    Path(str(engine) + ".json").unlink()
    Path(str(engine) + ".json").mkdir()
    return "sidecar"


def _sidecar_fifo(scene: Any, engine: Path) -> str:
    Path(str(engine) + ".json").unlink()
    os.mkfifo(str(engine) + ".json")
    return "not a regular file"


def _plan_fifo(scene: Any, engine: Path) -> str:
    engine.unlink()
    os.mkfifo(engine)
    return "not a regular file"


def _truncate(scene: Any, engine: Path) -> str:
    engine.write_bytes(engine.read_bytes()[:100])
    return "truncated"


def _flip(scene: Any, engine: Path) -> str:
    data = bytearray(engine.read_bytes())
    data[len(data) // 2] ^= 0xFF
    engine.write_bytes(bytes(data))
    return "hash"


def _other_plan(scene: Any, engine: Path) -> str:
    engine.write_bytes(b"\0" * engine.stat().st_size)
    return "hash"


def _empty_plan(scene: Any, engine: Path) -> str:
    engine.write_bytes(b"")
    return "truncated"


def _huge(scene: Any, engine: Path) -> str:
    meta = _meta(scene, engine)
    meta["notes"] = ["x" * (5 << 20)]
    _write(engine, meta)
    return "allowed"


POISONS: dict[str, Callable[[Any, Path], str]] = {
    "no-sidecar": _no_sidecar,
    "sidecar-is-dir": _sidecar_dir,
    "sidecar-fifo": _sidecar_fifo,
    "plan-fifo": _plan_fifo,
    "empty-sidecar": _raw(""),
    "not-json": _raw("{not json"),
    "binary": _raw("\udcff".encode("utf-8", "surrogateescape").decode("latin-1") + "\x00\x01"),
    "json-list": _raw("[1, 2, 3]"),
    "json-string": _raw('"engine"'),
    "json-null": _raw("null"),
    "deep-dict": _raw('{"a":' * 50000 + "1" + "}" * 50000),
    "deep-list": _raw("[" * 50000 + "]" * 50000),
    "deep-field": _edit(build=json.loads('{"a":' * 40 + "1" + "}" * 40)),
    "huge": _huge,
    "plan-not-dict": _edit(plan="x"),
    "plan-list": _edit(plan=[1, 2]),
    "plan-size-string": _edit(**{"plan.size": "266276"}),
    "plan-sha-int": _edit(**{"plan.sha256": 5}),
    "plan-sha-short": _edit(**{"plan.sha256": "abc"}),
    "tensorrt-list": _edit(tensorrt=["tensorrt_rtx", "1.7.1"]),
    "tensorrt-version-int": _edit(**{"tensorrt.version": 1}),
    "tensorrt-version-edited": _edit(**{"tensorrt.version": "9.9.9"}),
    "format-2": _edit(format_version=2),
    "format-string": _edit(format_version="1"),
    "route-int": _edit(route=7),
    "precision-list": _edit(precision=["fp32"]),
    "inputs-dict": _edit(inputs={"x": [1, 3, 8, 8]}),
    "inputs-bad-shape": _edit(inputs=[{"name": "x", "dtype": "float32", "shape": ["1", "3"]}]),
    "inputs-no-name": _edit(inputs=[{"dtype": "float32", "shape": [1]}]),
    "outputs-null": _edit(outputs=None),
    "notes-dict": _edit(notes={"a": 1}),
    "notes-ints": _edit(notes=[1, 2]),
    "profiles-garbage": _edit(profiles=[{"profiles": [{"min": "a"}]}]),
    "source-list": _edit(source=[1]),
    "target-int": _edit(target=89),
    "no-plan-key": _drop("plan"),
    "no-inputs-key": _drop("inputs"),
    "truncated-plan": _truncate,
    "flipped-plan": _flip,
    "zeroed-plan": _other_plan,
    "empty-plan": _empty_plan,
}


@pytest.mark.parametrize("command", ["inspect", "bench", "check"])
@pytest.mark.parametrize("poison", sorted(POISONS))
def test_poisoned_engine_file_is_refused(scene: Any, artifacts: dict[str, Path], command: str,
                                         poison: str) -> None:
    engine = scene.copy_engine(artifacts)
    model = scene.copy(artifacts["model"])
    POISONS[poison](scene, engine)
    args = [command, engine] if command != "check" else [command, model, engine]
    scene.run(*args).assert_failure(1, "t.engine")


def _graph(engine: Path) -> Path:
    return Path(str(engine) + ".snapshot.json")


def _weights(engine: Path) -> Path:
    return Path(str(engine) + ".snapshot.npz")


def _unbind(engine: Path) -> None:
    graph = json.loads(_graph(engine).read_text())
    del graph["binding"]
    _graph(engine).write_text(json.dumps(graph))


def _edit_weights(engine: Path) -> None:
    import numpy as np

    with np.load(_weights(engine)) as archive:
        arrays = {k: archive[k] + 1 for k in archive.files}
    np.savez(_weights(engine), **arrays)


SNAPSHOT_POISONS: dict[str, Callable[[Path], None]] = {
    "graph-garbage": lambda e: _graph(e).write_text("{garbage"),
    "graph-list": lambda e: _graph(e).write_text("[]"),
    "graph-deep": lambda e: _graph(e).write_text("[" * 60000 + "]" * 60000),
    "graph-other-format": lambda e: _graph(e).write_text('{"format": "x", "version": 1}'),
    "graph-no-layers": lambda e: _graph(e).write_text(json.dumps(
        {**json.loads(_graph(e).read_text()), "layers": None})),
    "graph-unbound": _unbind,
    "weights-garbage": lambda e: _weights(e).write_bytes(b"garbage"),
    "weights-empty": lambda e: _weights(e).write_bytes(b""),
    "weights-edited": _edit_weights,
    "weights-fifo": lambda e: (_weights(e).unlink(), os.mkfifo(_weights(e))),
}


@pytest.mark.parametrize("command", [["check"], ["debug", "layers"]], ids=["check", "debug"])
@pytest.mark.parametrize("poison", sorted(SNAPSHOT_POISONS))
def test_poisoned_snapshot_beside_the_engine_is_refused(scene: Any, artifacts: dict[str, Path],
                                                        command: list[str], poison: str) -> None:
    engine = scene.copy_engine(artifacts)
    model = scene.copy(artifacts["model"])
    SNAPSHOT_POISONS[poison](engine)
    scene.run(*command, model, engine).assert_failure(1, "t.engine")
