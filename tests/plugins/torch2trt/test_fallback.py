"""Partial conversion: what no converter takes runs in PyTorch, in one hybrid program that is
run, checked, saved, loaded and cached like an engine."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import trtforge
from trtforge import InputSpec
from trtforge.verify.checking import check, debug_layers
from trtforge.errors import EngineFileError, UnsupportedOperationsError, UsageError
from trtforge.program import Program, StageRunError
from t2t_harness import TARGET, convert


@torch.library.custom_op("trtforge_tests::soft_clip", mutates_args=())
def soft_clip(x: torch.Tensor, limit: float) -> torch.Tensor:
    """A user's op with no TensorRT converter."""
    return limit * torch.tanh(x / limit)


@soft_clip.register_fake
def _(x: torch.Tensor, limit: float) -> torch.Tensor:
    return torch.empty_like(x)


class ClippedNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.c1, self.b1 = torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8)
        self.c2 = torch.nn.Conv2d(8, 8, 3, padding=1)
        self.c3, self.c4 = torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.Conv2d(16, 16, 3, padding=1)
        self.fc = torch.nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.b1(self.c1(x)))
        x = torch.relu(self.c2(x)) + x
        x = torch.ops.trtforge_tests.soft_clip(x, 2.0)
        x = torch.relu(self.c3(x))
        x = torch.relu(self.c4(x)) * 0.5 + x
        x = x.mean((2, 3))
        return self.fc(x.view(x.size(0), -1))


DYNAMIC = InputSpec("x", min=(1, 3, 16, 16), opt=(2, 3, 16, 16), max=(4, 3, 16, 16))


@pytest.fixture(scope="module")
def model() -> ClippedNet:
    return ClippedNet().eval()


@pytest.fixture(scope="module")
def program(model: ClippedNet) -> Program:
    return convert(model, [DYNAMIC])


def batch(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 3, 16, 16)).astype(np.float32)


def test_custom_op_converts_with_fallback_and_check_passes(model: ClippedNet, program: Program) -> None:
    assert isinstance(program, Program)
    assert [s.kind for s in program.stages] == ["tensorrt", "torch.export", "tensorrt"]
    report = program.fallback_report
    assert report["framework_ops"] == ["trtforge_tests.soft_clip.default (soft_clip at <top>)"]
    assert report["graph_breaks"] == 2 and report["framework_mac_share"] == 0.0
    assert all(b["shape"].endswith("x8x16x16") and b["bytes"] == 2 * 8 * 16 * 16 * 4
               for b in report["boundaries"])  # sizes at the traced batch
    result = check(model, program)
    assert result.passed, result.outputs
    assert result.inputs == {"x": [2, 3, 16, 16]}  # the profile's opt shape
    for n in (1, 3, 4):  # the boundary profiles follow the model's batch range
        assert check(model, program, inputs=[batch(n, seed=n)]).passed


def test_boundary_inputs_carry_the_models_profile(program: Program) -> None:
    second = program.engine_stages[1]
    assert second.inputs == ["soft_clip"]
    profile = second.engine.metadata["profiles"][0]["profiles"][0]
    assert profile == {"min": [1, 8, 16, 16], "opt": [2, 8, 16, 16], "max": [4, 8, 16, 16]}


def test_save_load_check_round_trip(model: ClippedNet, program: Program, tmp_path: Path) -> None:
    folder = program.save(tmp_path / "clipped")
    manifest = json.loads((folder / "program.json").read_text())
    assert manifest["format"] == "trtforge-program" and len(manifest["stages"]) == 3
    plans = sorted(p.name for p in folder.glob("*.plan"))
    assert plans == ["stage0_tensorrt.plan", "stage2_tensorrt.plan"]
    assert (folder / "stage1_torch.pt2").is_file()
    loaded = Program.load(folder)
    x = batch(3, seed=5)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    got = loaded.run(x, device="reference")["addmm"]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert check(model, str(folder)).passed  # a program folder is checked like an engine path
    assert not list(tmp_path.glob(".clipped*")), "no staging folder left behind"


def test_saving_again_replaces_the_program_as_a_unit(program: Program, tmp_path: Path) -> None:
    folder = program.save(tmp_path / "p")
    (folder / "stray.txt").write_text("left by someone")
    program.save(folder)
    assert not (folder / "stray.txt").exists() and Program.load(folder)
    (tmp_path / "file").write_text("x")
    with pytest.raises(EngineFileError, match="is not a trtforge program folder"):
        program.save(tmp_path / "file")


def test_debug_layers_compares_engine_tensors_of_every_stage(model: ClippedNet, program: Program) -> None:
    report = debug_layers(model, program)
    assert report.check.passed and report.first_divergence is None
    assert len(report.compared) >= 8


@pytest.mark.parametrize("damage", ["missing", "flipped", "manifest", "kind"])
def test_a_damaged_program_folder_is_refused_naming_the_file(program: Program, tmp_path: Path,
                                                             damage: str) -> None:
    folder = program.save(tmp_path / "p")
    manifest_path = folder / "program.json"
    if damage == "missing":
        (folder / "stage1_torch.pt2").unlink()
        match = "stage1_torch.pt2 is missing"
    elif damage == "flipped":
        data = bytearray((folder / "stage2_tensorrt.plan").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (folder / "stage2_tensorrt.plan").write_bytes(bytes(data))
        match = "stage2_tensorrt.plan does not match the hash"
    elif damage == "manifest":
        data = json.loads(manifest_path.read_text())
        data["stages"][2]["inputs"] = ["nowhere"]
        manifest_path.write_text(json.dumps(data))
        match = "reads \\['nowhere'\\], which no input or earlier stage gives"
    else:
        data = json.loads(manifest_path.read_text())
        data["stages"][1]["kind"] = "tensorflow.function"
        manifest_path.write_text(json.dumps(data))
        match = "unknown kind 'tensorflow.function'"
    with pytest.raises(EngineFileError, match=match):
        Program.load(folder)


def test_a_stage_from_another_tensorrt_is_refused(program: Program, tmp_path: Path) -> None:
    folder = program.save(tmp_path / "p")
    sidecar = folder / "stage0_tensorrt.plan.json"
    data = json.loads(sidecar.read_text())
    data["tensorrt"]["version"] = "7.2.3"
    sidecar.write_text(json.dumps(data))
    # the sidecar's own hash is in the manifest: the edit is caught before TensorRT is asked
    with pytest.raises(EngineFileError, match="stage0_tensorrt.plan.json"):
        Program.load(folder)


def test_a_failing_framework_stage_names_itself_and_its_ops(program: Program) -> None:
    stage = program.framework_stages[0]
    with pytest.raises(StageRunError, match="stage1_torch \\(PyTorch: trtforge_tests.soft_clip.default\\)"):
        stage.run({stage.inputs[0]: np.zeros((2, 5), np.float32)}, device="reference")


def test_never_refuses_with_every_unconvertible_op(model: ClippedNet) -> None:
    with pytest.raises(UnsupportedOperationsError) as info:
        convert(model, [DYNAMIC], fallback="never")
    assert any("trtforge_tests.soft_clip.default" in u for u in info.value.unsupported)


def test_always_makes_a_program_of_a_convertible_model_and_framework_ops_force_ops_out() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 8, 3),
                                torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8 * 12 * 12, 10),
                                torch.nn.Softmax(dim=1)).eval()
    example = [torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(3))]
    whole = convert(model, example, fallback="always", min_block_size=1)
    assert isinstance(whole, Program) and [s.kind for s in whole.stages] == ["tensorrt"]
    assert check(model, whole).passed
    forced = convert(model, example, framework_ops=["aten._softmax"], min_block_size=1)
    assert [s.kind for s in forced.stages] == ["tensorrt", "torch.export"]
    assert forced.fallback_report["forced"] and check(model, forced).passed


def test_fp16_program_passes_check(model: ClippedNet) -> None:
    import tempfile

    from trtforge.guard import WORK_PREFIX

    def work_dirs() -> set[str]:
        return {p.name for p in Path(tempfile.gettempdir()).glob(f"{WORK_PREFIX}*.p{os.getpid()}.*")}

    before = work_dirs()
    program = convert(model, [DYNAMIC], "fp16")
    assert program.precision == "fp16" and check(model, program).passed
    assert work_dirs() == before  # planning and building leave no work folder behind


def test_int8_programs_are_refused_before_building(model: ClippedNet) -> None:
    with pytest.raises(UsageError, match="INT8 hybrid programs are not supported yet"):
        convert(model, [DYNAMIC], "int8")


def test_programs_are_cached_as_a_unit_and_a_poisoned_entry_is_rebuilt(model: ClippedNet,
                                                                       tmp_path: Path) -> None:
    def build() -> Program:
        return trtforge.convert(model, backend="torch2trt", inputs=[DYNAMIC], target=TARGET,
                                cache=tmp_path / "cache")

    first = build()
    assert first.metadata["cache"]["hit"] is False
    second = build()
    assert second.metadata["cache"] == {"hit": True, "key": first.metadata["cache"]["key"]}
    assert check(model, second).passed
    plan = next(second.path.glob("stage2_tensorrt.plan"))
    plan.write_bytes(plan.read_bytes()[:-10])
    third = build()
    assert third.metadata["cache"]["hit"] is False and check(model, third).passed
    entries = trtforge.EngineCache(tmp_path / "cache").entries()
    assert len(entries) == 1 and entries[0].error is None
    shutil.rmtree(tmp_path / "cache")
