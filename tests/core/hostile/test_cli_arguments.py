"""Hostile CLI arguments for ``trtforge convert`` (and the parser itself): usage errors, exit 2."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

BAD_PRECISIONS = ["fp7", "FP64", "int4", "", " ", "fp16;rm", "[bold]x", "int8,fp16", "half", "none"]
BAD_TARGETS = ["potato", "sm", "sm9", "89x", "[/x]", "sm-89", "graphics", "sm8.9.1", "💥", "smXY"]
BAD_INPUTS = ["bad", "x:", "x:1xZ", "x:float32:1x3x8x8:9", ":::", "x:float99:1x3x8x8",
              "x:1x3,1x3", "x:1x3,2x3,3x3,4x3", "x:-1x3", "x:1x3x8x8;", "x:1.5x3", "x:0x3x8x8,1x3x8x8",
              "x:4x3x8x8,2x3x8x8,8x3x8x8", "x:1x3x8x8,1x3x8x8,1x3x8", "x:[/b]x3"]
BAD_OPTIONS = [["--option", "noequals"], ["--option", "opset=abc"], ["--option", "opset=3"],
               ["--option", "bogus=1"], ["--option", "torch_exporter=nope"],
               ["--option", "opset=[1]"], ["--option", "int8_min_cosine=2"],
               ["--option", "input_names=5"]]
BAD_NUMBERS = [["--workspace", "-1"], ["--workspace", "abc"], ["--opt-level", "9"],
               ["--opt-level", "-3"], ["--opt-level", "x"], ["--workspace", "1e3"]]
BAD_PARSER = [["convert", "--no-such-flag"], ["frobnicate"], ["cache", "wipe"], ["inspect"],
              ["check", "only-one"], ["debug", "layers"], ["bench"], ["compare"]]


def _convert(scene: Any, artifacts: dict[str, Path], *extra: str) -> Any:
    model = scene.copy(artifacts["model"])
    return scene.run("convert", model, "--target", "sm89", "--backend", "onnx_trt", "--no-cache", *extra)


@pytest.mark.parametrize("precision", BAD_PRECISIONS)
def test_bad_precision(scene: Any, artifacts: dict[str, Path], precision: str) -> None:
    _convert(scene, artifacts, "--precision", precision).assert_failure(2, "precision")


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_bad_target(scene: Any, artifacts: dict[str, Path], target: str) -> None:
    _convert(scene, artifacts, "--target", target).assert_failure(2, "target|cannot build for")


@pytest.mark.parametrize("spec", BAD_INPUTS)
def test_bad_input_spec(scene: Any, artifacts: dict[str, Path], spec: str) -> None:
    _convert(scene, artifacts, "--input", spec).assert_failure(2)


@pytest.mark.parametrize("extra, subject", [
    (["--input", "x:int32:1x3x8x8"], "'x'"), (["--input", "x:float16:1x3x8x8"], "'x'"),
    (["--input", "x:int64:1x3x8x8"], "'x'"), (["--input", "x:bool:1x3x8x8"], "'x'"),
    (["--input", "x:1x3x8x8", "--input", "x:1x3x8x8"], "'x'"),
    (["--input", "x:1x3x8x8", "--input", "x:2x3x8x8"], "'x'"),
])
def test_input_that_contradicts_the_model(scene: Any, artifacts: dict[str, Path], extra: list[str],
                                          subject: str) -> None:
    _convert(scene, artifacts, *extra).assert_failure(2, subject)


@pytest.mark.parametrize("extra", BAD_OPTIONS, ids=lambda e: e[-1])
def test_bad_route_option(scene: Any, artifacts: dict[str, Path], extra: list[str]) -> None:
    _convert(scene, artifacts, *extra).assert_failure(2, "opset" if "opset" in extra[-1] else "")


@pytest.mark.parametrize("extra", BAD_NUMBERS, ids=lambda e: "".join(e))
def test_bad_builder_number(scene: Any, artifacts: dict[str, Path], extra: list[str]) -> None:
    _convert(scene, artifacts, *extra).assert_failure(2)


@pytest.mark.parametrize("argv", BAD_PARSER, ids=lambda a: "_".join(a))
def test_bad_command_line(scene: Any, argv: list[str]) -> None:
    scene.run(*argv).assert_failure(2, "trtforge")


@pytest.mark.parametrize("output", ["", " ", "MODEL", "dir/../tiny.onnx", "./", "dir", "file/x.engine",
                                    "LINK"])
def test_bad_output_path(scene: Any, artifacts: dict[str, Path], output: str) -> None:
    model = scene.copy(artifacts["model"])
    (scene.root / "dir").mkdir()
    (scene.root / "file").write_text("a file, not a folder\n")
    snapshot = False
    if output == "MODEL":
        output, subject = str(model), str(model)
    elif output == "dir/../tiny.onnx":  # the model, spelled another way
        subject = str(model)
    elif output == "LINK":  # a symlink to the model: writing it would replace the model
        (scene.root / "link.engine").symlink_to(model)
        output, subject = str(scene.root / "link.engine"), str(model)
    else:
        subject = "-o"
    extra = ["-o", output] + (["--snapshot"] if snapshot else [])
    scene.run("convert", model, "--target", "sm89", "--no-cache", *extra).assert_failure(2, subject)


@pytest.mark.parametrize("which", ["model", "model-via-dotdot"])
def test_timing_cache_over_the_model(scene: Any, artifacts: dict[str, Path], which: str) -> None:
    model = scene.copy(artifacts["model"])
    (scene.root / "d").mkdir()
    cache = str(model) if which == "model" else str(scene.root / "d" / ".." / model.name)
    scene.run("convert", model, "--target", "sm89", "--no-cache", "--timing-cache", cache).assert_failure(
        2, "--timing-cache")
