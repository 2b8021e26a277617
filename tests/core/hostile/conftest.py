"""Shared scene for the hostile-input suite: tiny real artifacts built once, and one checker.

Every case runs the real CLI in process (``trtforge.cli.main``) inside its own folder and then
asserts what issue 14 asks of every failure: the exit code, a one-line ``error:`` message that
names the subject, a ``hint:``, no traceback and no "unexpected" error, no partial or stray
file (in the folder, in ``$TMPDIR``, in the cache), and every source file byte-identical.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pytest

from trtforge.cli import main


def write_tiny_onnx(path: Path, seed: int = 0) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = np.random.default_rng(seed).standard_normal((4, 3, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["y"])],
        "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])],
        [numpy_helper.from_array(weights, "W")])
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """tiny.onnx, its engine saved with a snapshot, and a second model's engine (seed 1)."""
    root = tmp_path_factory.mktemp("hostile-artifacts")
    model = write_tiny_onnx(root / "tiny.onnx")
    other = write_tiny_onnx(root / "other.onnx", seed=1)
    for src, out in ((model, root / "tiny.engine"), (other, root / "other.engine")):
        code = main(["convert", str(src), "--backend", "onnx_trt", "--target", "sm89", "--no-cache",
                     "-o", str(out), "--snapshot"])
        assert code == 0
    return {"model": model, "other": other, "engine": root / "tiny.engine",
            "other_engine": root / "other.engine", "root": root}


def _tree(root: Path) -> dict[str, tuple[str, str]]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            found[rel] = ("link", os.readlink(path))
        elif path.is_dir():
            found[rel] = ("dir", "")
        elif path.is_file():
            found[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
        else:
            found[rel] = ("special", "")
    return found


@dataclass
class Scene:
    """One case's folder: ``add`` sources, ``run`` the CLI, then ``assert_*``."""

    root: Path
    capsys: Any
    tmpdir: Path
    before: dict[str, tuple[str, str]] = field(default_factory=dict)
    code: int | None = None
    out: str = ""
    err: str = ""

    def path(self, name: str) -> Path:
        return self.root / name

    def copy(self, source: Path, name: str | None = None) -> Path:
        target = self.root / (name or source.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        return target

    def copy_engine(self, artifacts: dict[str, Path], name: str = "t.engine", which: str = "engine",
                    snapshot: bool = True) -> Path:
        src = artifacts[which]
        target = self.copy(src, name)
        self.copy(Path(str(src) + ".json"), name + ".json")
        if snapshot:
            for suffix in (".snapshot.json", ".snapshot.npz"):
                self.copy(Path(str(src) + suffix), name + suffix)
        return target

    def run(self, *args: Any, allow_new: Iterable[str] = ()) -> "Scene":
        self.before = _tree(self.root)
        self.allow_new = set(allow_new)
        self.code = main([str(a) for a in args])
        self.out, self.err = self.capsys.readouterr()
        return self

    # --- assertions -------------------------------------------------------------------
    def assert_failure(self, code: int, *subjects: str) -> None:
        """Exit ``code``; ``error: ...`` naming every subject, then ``hint: ...``; nothing else."""
        assert self.code == code, f"exit {self.code}, wanted {code}\n{self.err}\n{self.out}"
        lines = [line for line in self.err.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error: ")]
        assert len(errors) == 1, self.err
        message = errors[0]
        assert "unexpected" not in message, message
        assert any(line.startswith("hint: ") for line in lines), f"no hint:\n{self.err}"
        for subject in subjects:  # "a|b": either names the subject
            assert any(s in message for s in subject.split("|")), f"{subject!r} not named in: {message}"
        self.assert_clean()

    def assert_ok(self) -> None:
        assert self.code == 0, self.err
        self.assert_clean()

    def assert_clean(self) -> None:
        text = self.err + self.out
        assert "Traceback" not in text and "MarkupError" not in text, text
        after = _tree(self.root)
        changed = [p for p, v in self.before.items() if after.get(p) != v]
        assert not changed, f"files changed or removed: {changed}"
        new = [p for p in after if p not in self.before and p not in self.allow_new]
        assert not new, f"files left behind: {new}"
        stray = list(self.tmpdir.iterdir())
        assert not stray, f"left in $TMPDIR: {stray}"


@pytest.fixture
def scene(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> Scene:
    work = tmp_path / "work"
    work.mkdir()
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    # A cache nobody may write to unless a case names one: any write lands in the case folder.
    monkeypatch.setenv("TRTFORGE_CACHE_DIR", str(work / "default-cache"))
    monkeypatch.chdir(work)
    return Scene(root=work, capsys=capsys, tmpdir=tmpdir)
