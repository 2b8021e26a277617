"""Hostile inputs to check, debug layers and compare: usage errors and refused snapshots."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest


def _npz(**arrays: Any) -> Callable[[Path], None]:
    return lambda path: np.savez(path, **arrays)


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dir(path: Path) -> None:
    path.mkdir()


X = np.zeros((1, 3, 8, 8), np.float32)
INPUT_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "pickled": (_npz(x=np.array([{"a": 1}], dtype=object)), "pickled"),
    "pickled-second": (_npz(y=X, x=np.array([None, 1], dtype=object)), "pickled"),
    "wrong-name": (_npz(image=X), "x"),
    "not-a-zip": (_bytes(b"garbage"), "inputs.npz"),
    "empty": (_bytes(b""), "inputs.npz"),
    "truncated-zip": (_bytes(b"PK\x03\x04\x14\x00"), "inputs.npz"),
    "fifo": (_fifo, "not a regular file"),
    "dir": (_dir, "directory"),
    "missing": (lambda path: None, "not found"),
    "wrong-shape": (_npz(x=np.zeros((1, 3, 9, 9), np.float32)), "x"),
    "wrong-rank": (_npz(x=np.zeros((3, 8, 8), np.float32)), "x"),
    "strings": (_npz(x=np.array(["a", "b"])), "x"),
    "nan": (_npz(x=np.full((1, 3, 8, 8), np.nan, np.float32)), "x"),
}


@pytest.mark.parametrize("command", [["check"], ["debug", "layers"]], ids=["check", "debug"])
@pytest.mark.parametrize("name", sorted(INPUT_FILES))
def test_hostile_inputs_file(scene: Any, artifacts: dict[str, Path], command: list[str], name: str) -> None:
    make, subject = INPUT_FILES[name]
    engine = scene.copy_engine(artifacts)
    model = scene.copy(artifacts["model"])
    make(scene.path("inputs.npz"))
    scene.run(*command, model, engine, "--inputs", scene.path("inputs.npz")).assert_failure(2, subject)


@pytest.mark.parametrize("command", [["check"], ["debug", "layers"]], ids=["check", "debug"])
@pytest.mark.parametrize("precision", ["bogus", "FP99", "int4", "[/x]", " "])
def test_unknown_tolerance_policy(scene: Any, artifacts: dict[str, Path], command: list[str],
                                  precision: str) -> None:
    engine = scene.copy_engine(artifacts)
    model = scene.copy(artifacts["model"])
    scene.run(*command, model, engine, "--precision", precision).assert_failure(2, "precision")


SWAPS = {
    "both-from-other": (".snapshot.json", ".snapshot.npz"),
    "json-from-other": (".snapshot.json",),
    "npz-from-other": (".snapshot.npz",),
}


@pytest.mark.parametrize("command", [["check"], ["debug", "layers"]], ids=["check", "debug"])
@pytest.mark.parametrize("swap", sorted(SWAPS))
def test_snapshot_of_another_model_is_refused(scene: Any, artifacts: dict[str, Path], command: list[str],
                                              swap: str) -> None:
    engine = scene.copy_engine(artifacts)
    model = scene.copy(artifacts["model"])
    for suffix in SWAPS[swap]:
        shutil.copy(str(artifacts["other_engine"]) + suffix, str(engine) + suffix)
    scene.run(*command, model, engine).assert_failure(1, "t.engine")


@pytest.mark.parametrize("missing", [".snapshot.json", ".snapshot.npz", "both"])
def test_engine_without_its_snapshot(scene: Any, artifacts: dict[str, Path], missing: str) -> None:
    engine = scene.copy_engine(artifacts)
    model = scene.copy(artifacts["model"])
    for suffix in ((".snapshot.json", ".snapshot.npz") if missing == "both" else (missing,)):
        Path(str(engine) + suffix).unlink()
    scene.run("check", model, engine).assert_failure(1, "t.engine")


def test_check_of_a_model_against_another_models_engine_fails_the_check(
        scene: Any, artifacts: dict[str, Path]) -> None:
    engine = scene.copy_engine(artifacts, which="other_engine")
    model = scene.copy(artifacts["model"])
    scene.run("check", model, engine)
    assert scene.code == 1 and "FAIL" in scene.out
    scene.assert_clean()


DATA_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "pickled": (_npz(x=np.array([{"a": 1}], dtype=object), y=np.zeros(1)), "pickled"),
    "no-y": (_npz(x=X), "x and y"),
    "not-a-zip": (_bytes(b"garbage"), "data.npz"),
    "fifo": (_fifo, "not a regular file"),
    "dir": (_dir, "directory"),
    "missing": (lambda path: None, "not found"),
}


@pytest.mark.parametrize("name", sorted(DATA_FILES))
def test_hostile_compare_data(scene: Any, artifacts: dict[str, Path], name: str) -> None:
    make, subject = DATA_FILES[name]
    model = scene.copy(artifacts["model"])
    make(scene.path("data.npz"))
    scene.run("compare", model, "--backends", "onnx_trt", "--precisions", "fp32", "--target", "sm89",
              "--no-cache", "--no-baselines", "--data", scene.path("data.npz")).assert_failure(2, subject)


@pytest.mark.parametrize("name", ["pickled-npy", "npz-instead", "garbage", "fifo", "missing"])
def test_hostile_compare_calibration(scene: Any, artifacts: dict[str, Path], name: str) -> None:
    model = scene.copy(artifacts["model"])
    calib = scene.path("calib.npy")
    if name == "pickled-npy":
        np.save(calib, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif name == "npz-instead":
        np.savez(scene.path("calib.npz"), x=X)
        shutil.move(scene.path("calib.npz"), calib)
    elif name == "garbage":
        calib.write_bytes(b"\x93NUMPY garbage")
    elif name == "fifo":
        os.mkfifo(calib)
    scene.run("compare", model, "--backends", "onnx_trt", "--precisions", "int8", "--target", "sm89",
              "--no-cache", "--no-baselines", "--calibration", calib).assert_failure(2, "calib.npy")


@pytest.mark.parametrize("out", ["MODEL", "", "a-file", "inside-model"])
def test_hostile_compare_out(scene: Any, artifacts: dict[str, Path], out: str) -> None:
    model = scene.copy(artifacts["model"])
    (scene.path("a-file")).write_text("x\n")
    target = {"MODEL": str(model), "": "", "a-file": str(scene.path("a-file")),
              "inside-model": str(model / "report")}[out]
    scene.run("compare", model, "--backends", "onnx_trt", "--precisions", "fp32", "--target", "sm89",
              "--no-cache", "--no-baselines", "--out", target).assert_failure(2, "--out")


@pytest.mark.parametrize("extra, subject", [
    (["--precisions", "fp7"], "fp7"), (["--backends", "nope"], "nope"), (["--precisions", ""], "precision"),
    (["--backends", ","], "backend"),
])
def test_hostile_compare_lists(scene: Any, artifacts: dict[str, Path], extra: list[str],
                               subject: str) -> None:
    model = scene.copy(artifacts["model"])
    scene.run("compare", model, "--target", "sm89", "--no-cache", "--no-baselines",
              *extra).assert_failure(2, subject)
