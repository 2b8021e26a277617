"""``trtforge export triton``: real TensorRT-RTX engines (the tiny route) into a Triton model
repository whose config.pbtxt parses with Triton's own schema and matches the engine's bindings;
every refusal of what Triton's loader would reject; all-or-nothing folders."""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Iterator

import pytest

import trtforge
from trtforge.plugin import plugins
from trtforge.cli import main
from trtforge.conversion.engine import Engine
from trtforge.errors import ExportError, UsageError
from trtforge.export import triton as triton_export
from trtforge.export.triton import config_for, export_triton
from tiny_route import TinyBackend, TinyModel, TinyPlugin
from triton_schema import data_type_name, parse_config

SHAPE = (3, 8, 8)


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Saved engines: fixed shape, one dynamic-batch profile, two profiles, batch from 4 only."""
    name = plugins.register(TinyPlugin(TinyBackend("tiny_export", 5)), name="tiny-export")
    folder = tmp_path_factory.mktemp("engines")
    specs = {
        "fixed": [trtforge.InputSpec("x", shape=(1, *SHAPE))],
        "dynamic": [trtforge.InputSpec("x", min=(1, *SHAPE), opt=(4, *SHAPE), max=(8, *SHAPE))],
        "profiles": [trtforge.InputSpec("x", profiles=[((1, *SHAPE), (2, *SHAPE), (4, *SHAPE)),
                                                       ((4, *SHAPE), (8, *SHAPE), (16, *SHAPE))])],
        "from4": [trtforge.InputSpec("x", min=(4, *SHAPE), opt=(8, *SHAPE), max=(16, *SHAPE))],
    }
    paths = {}
    try:
        for key, inputs in specs.items():
            engine = trtforge.convert(TinyModel(), backend="tiny_export", target="sm89",
                                      inputs=inputs, cache=False)
            paths[key] = engine.save(folder / f"{key}.engine")
        yield paths
    finally:
        plugins.unregister(name)


def _read(folder: Path) -> Any:
    return parse_config((folder / "config.pbtxt").read_text(encoding="utf-8"))


def _assert_matches_bindings(config: Any, engine: Engine, batched: bool) -> None:
    """Names, Triton types and dims of config.pbtxt against the engine's sidecar."""
    for declared, tensors in ((config.input, engine.inputs), (config.output, engine.outputs)):
        assert [t.name for t in declared] == [t["name"] for t in tensors]
        for entry, tensor in zip(declared, tensors):
            assert data_type_name(entry.data_type) == triton_export.TRITON_TYPES[tensor["dtype"]]
            expected = tensor["shape"][1:] if batched else tensor["shape"]
            assert list(entry.dims) == list(expected)


def test_fixed_shape_engine_exports_without_batching(engines: dict[str, Path], tmp_path: Path) -> None:
    folder = export_triton(engines["fixed"], tmp_path / "repo")
    assert folder == (tmp_path / "repo" / "fixed").resolve()
    config = _read(folder)
    assert config.name == "fixed" and config.platform == "tensorrt_plan"
    assert config.max_batch_size == 0 and not config.HasField("dynamic_batching")
    _assert_matches_bindings(config, Engine.load(engines["fixed"]), batched=False)
    assert list(config.input[0].dims) == [1, *SHAPE]
    group = config.instance_group[0]
    assert group.count == 1 and group.kind == 1 and list(group.profile) == []  # KIND_GPU
    # The plan is the engine's, byte for byte, with its sidecar (trtforge inspect works there).
    assert (folder / "1" / "model.plan").read_bytes() == engines["fixed"].read_bytes()
    assert Engine.load(folder / "1" / "model.plan").route == "tiny_export"
    assert sorted(p.name for p in folder.iterdir()) == ["1", "README.md", "config.pbtxt", "reproduce.sh"]
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_dynamic_batch_engine(engines: dict[str, Path], tmp_path: Path) -> None:
    folder = export_triton(engines["dynamic"], tmp_path, name="dyn", instances=3, dynamic_batching=True)
    config = _read(folder)
    assert config.max_batch_size == 8
    _assert_matches_bindings(config, Engine.load(engines["dynamic"]), batched=True)
    assert list(config.dynamic_batching.preferred_batch_size) == [4]  # the profile's opt batch
    assert config.instance_group[0].count == 3 and list(config.instance_group[0].profile) == []
    # --max-batch at or below the profile's max is taken; without --dynamic-batching, none.
    config = _read(export_triton(engines["dynamic"], tmp_path, name="dyn2", max_batch=2))
    assert config.max_batch_size == 2 and not config.HasField("dynamic_batching")


def test_multi_profile_engine_lists_every_profile(engines: dict[str, Path], tmp_path: Path) -> None:
    folder = export_triton(engines["profiles"], tmp_path, dynamic_batching=True)
    config = _read(folder)
    assert config.max_batch_size == 16  # 1..4 and 4..16 cover every batch up to 16
    assert list(config.instance_group[0].profile) == ["0", "1"]
    assert list(config.dynamic_batching.preferred_batch_size) == [2, 8]
    _assert_matches_bindings(config, Engine.load(engines["profiles"]), batched=True)
    assert "profile 0: 1..4, profile 1: 4..16" in (folder / "config.pbtxt").read_text()


def test_reproduce_script_and_readme_name_versions_and_gpu(engines: dict[str, Path], tmp_path: Path) -> None:
    from trtforge.tensorrt.gpu import probe_gpus

    folder = export_triton(engines["dynamic"], tmp_path, name="m", dynamic_batching=True)
    script = (folder / "reproduce.sh").read_text()
    meta = Engine.read_metadata(engines["dynamic"])
    assert script.startswith("#!/bin/sh\n")
    assert f"trtforge export triton {engines['dynamic'].resolve()} --repo {tmp_path.resolve()} " \
           f"--name m --dynamic-batching" in script
    assert f"{meta['tensorrt']['flavor']} {meta['tensorrt']['version']} built the plan" in script
    assert f"trtforge:  {trtforge.__version__}" in script
    if not probe_gpus().found:
        assert "no GPU: built ahead of time for sm89" in script
    assert os.stat(folder / "reproduce.sh").st_mode & stat.S_IXUSR
    readme = (folder / "README.md").read_text()
    assert meta["tensorrt"]["version"] in readme and "| input | `x` | TYPE_FP32 | [3, 8, 8] |" in readme


def test_batch_from_4_is_refused_unless_max_batch_0(engines: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no optimization profile takes a batch of 1") as err:
        export_triton(engines["from4"], tmp_path)
    assert "--max-batch 0" in err.value.hint
    assert not (tmp_path / "from4").exists()
    config = _read(export_triton(engines["from4"], tmp_path, max_batch=0))
    assert config.max_batch_size == 0 and list(config.input[0].dims) == [-1, *SHAPE]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"max_batch": 32}, UsageError,
     r"--max-batch 32 is above .* \(16; profile 0: 1\.\.4, profile 1: 4\.\.16\)"),
    ({"max_batch": 0, "dynamic_batching": True}, UsageError, "needs a batch dimension"),
    ({"instances": 0}, UsageError, "--instances 0 must be 1 or more"),
    ({"max_batch": -1}, UsageError, "must be 0 or more"),
    ({"name": "a/b"}, UsageError, "cannot be a Triton model name"),
    ({"name": ".."}, UsageError, "cannot be a Triton model name"),
    ({"name": ".hidden"}, UsageError, "cannot be a Triton model name"),
    ({"name": " x"}, UsageError, "cannot be a Triton model name"),
    ({"name": ""}, UsageError, "cannot be a Triton model name"),
])
def test_refusals(engines: dict[str, Path], tmp_path: Path, kwargs: dict[str, Any],
                  error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        export_triton(engines["profiles"], tmp_path / "repo", **kwargs)
    assert not (tmp_path / "repo").exists() or not any((tmp_path / "repo").iterdir())


def test_fixed_shape_with_max_batch_is_refused(engines: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no dynamic batch dimension .*x \[1, 3, 8, 8\]"):
        export_triton(engines["fixed"], tmp_path, max_batch=4)


def _meta(inputs: list[dict[str, Any]], outputs: list[dict[str, Any]],
          profiles: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"inputs": inputs, "outputs": outputs, "profiles": profiles or []}


def test_metadata_triton_cannot_describe_is_refused() -> None:
    """Engines with these tensors need routes this test cannot build; the rules are on metadata."""
    float8 = _meta([{"name": "x", "dtype": "float32", "shape": [2, 3]}],
                   [{"name": "y", "dtype": "float8", "shape": [2, 3]}])
    with pytest.raises(ExportError, match="'y' is float8, which Triton has no data type for"):
        config_for(float8, name="m")
    scalar = _meta([{"name": "x", "dtype": "float32", "shape": [2]}],
                   [{"name": "y", "dtype": "int64", "shape": []}])
    with pytest.raises(ExportError, match="'y' is a scalar"):
        config_for(scalar, name="m")
    empty = _meta([{"name": "x", "dtype": "float32", "shape": [2, 0]}],
                  [{"name": "y", "dtype": "float32", "shape": [2]}])
    with pytest.raises(ExportError, match="dimension of 0"):
        config_for(empty, name="m")
    control = _meta([{"name": "x\n", "dtype": "float32", "shape": [2]}],
                    [{"name": "y", "dtype": "float32", "shape": [2]}])
    with pytest.raises(ExportError, match="cannot be a Triton tensor name"):
        config_for(control, name="m")


def test_batch_only_tensor_and_other_types_parse_with_triton() -> None:
    """A [batch] tensor is dims [1] + reshape [] (Triton's dims may not be empty); int types,
    bool, fp16 and a dynamic non-batch dimension (-1) map to Triton's types; quotes escape."""
    profile = {"min": [1, 2], "opt": [8, 5], "max": [32, 7]}
    meta = _meta(
        [{"name": 'ids"q', "dtype": "int64", "shape": [-1, -1]},
         {"name": "mask", "dtype": "bool", "shape": [-1, -1]}],
        [{"name": "score", "dtype": "float16", "shape": [-1]},
         {"name": "label", "dtype": "int32", "shape": [-1, 1]}],
        [{"name": 'ids"q', "dtype": "int64", "profiles": [profile]},
         {"name": "mask", "dtype": "bool", "profiles": [profile]}])
    config = config_for(meta, name="text", dynamic_batching=True)
    parsed = parse_config(config.to_pbtxt(["header"]))
    assert parsed.max_batch_size == 32 and list(parsed.dynamic_batching.preferred_batch_size) == [8]
    assert [(t.name, data_type_name(t.data_type), list(t.dims)) for t in parsed.input] == [
        ('ids"q', "TYPE_INT64", [-1]), ("mask", "TYPE_BOOL", [-1])]
    score = parsed.output[0]
    assert (data_type_name(score.data_type), list(score.dims)) == ("TYPE_FP16", [1])
    assert score.HasField("reshape") and list(score.reshape.shape) == []
    assert data_type_name(parsed.output[1].data_type) == "TYPE_INT32"


def test_existing_folder_needs_force_and_is_swapped_whole(engines: dict[str, Path], tmp_path: Path) -> None:
    folder = export_triton(engines["dynamic"], tmp_path, name="m")
    (folder / "2").mkdir()  # a newer version Triton would serve instead of ours
    with pytest.raises(UsageError, match="already exists") as err:
        export_triton(engines["profiles"], tmp_path, name="m")
    assert "--force" in err.value.hint and (folder / "2").exists()
    export_triton(engines["profiles"], tmp_path, name="m", replace=True)
    assert not (folder / "2").exists() and _read(folder).max_batch_size == 16
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_failure_while_writing_leaves_nothing_half_written(engines: dict[str, Path], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    folder = export_triton(engines["fixed"], tmp_path, name="m")
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    import trtforge.atomic as atomic

    real = atomic.atomic_write_text

    def failing(path: Any, text: str) -> Path:
        if Path(path).name == "reproduce.sh":
            raise OSError(28, "No space left on device")
        return real(path, text)

    monkeypatch.setattr(atomic, "atomic_write_text", failing)
    with pytest.raises(OSError):
        export_triton(engines["profiles"], tmp_path, name="m", replace=True)
    with pytest.raises(OSError):
        export_triton(engines["profiles"], tmp_path, name="new")
    assert {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no "new", no staging folder


def test_cli_export_and_its_errors(engines: dict[str, Path], tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "models"
    assert main(["export", "triton", str(engines["profiles"]), "--repo", str(repo), "--name", "tiny",
                 "--dynamic-batching", "--instances", "2"]) == 0
    out = capsys.readouterr().out
    assert f"ok: Triton model tiny written to {repo.resolve() / 'tiny'}" in out
    config = _read(repo / "tiny")
    assert config.instance_group[0].count == 2 and config.max_batch_size == 16
    script = (repo / "tiny" / "reproduce.sh").read_text()
    assert (f"trtforge export triton {engines['profiles'].resolve()} --repo {repo.resolve()} "
            "--name tiny --instances 2 --dynamic-batching\n") in script
    code = main(["export", "triton", str(engines["profiles"]), "--repo", str(repo), "--max-batch", "64"])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 2 and err[0].startswith("error: --max-batch 64 is above")
    assert err[1].startswith("hint: use --max-batch 16 or less")
    assert main(["export", "triton", str(engines["profiles"]), "--repo", str(repo), "--name", "tiny"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["export", "triton", str(tmp_path / "missing.engine"), "--repo", str(repo)]) == 1
    assert capsys.readouterr().err.startswith("error: engine file not found")


@pytest.mark.parametrize("given, name", [
    ("/x/resnet50.engine", "resnet50"), ("models/net.onnx", "net"), ("/tmp/model.py:build", "model"),
    ("torchvision:resnet50", "resnet50"), ("my model!.plan", "my_model_"), (".hidden", "hidden"),
    ("saved_model", "saved_model"), ("", "model")])
def test_default_names_are_valid_model_names(given: str, name: str) -> None:
    assert triton_export.default_name(given) == name
    triton_export.check_model_name(name)
