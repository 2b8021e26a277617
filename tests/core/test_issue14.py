"""Issue 14, one test per numbered item (each failed before its fix): nothing lost, nothing
wrong, nothing raw. The broader generated cases live in ``tests/core/hostile/``."""
from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import trtforge
from trtforge.conversion.cache import EngineCache
from trtforge.cli import main
from trtforge.conversion.engine import Engine, sidecar_path
from trtforge.errors import ModelSourceError, UsageError


def tiny_onnx(path: Path, seed: int = 0, op: str = "Relu", domain: str = "") -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = np.random.default_rng(seed).standard_normal((4, 3, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node(op, ["c"], ["y"], domain=domain)],
        "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])],
        [numpy_helper.from_array(weights, "W")])
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(helper.make_model(graph, opset_imports=opsets), str(path))  # IR 14: newer than ORT reads
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def convert_args(model: Path, out: Path | None, cache: Path | None = None, *extra: str) -> list[str]:
    args = ["convert", str(model), "--target", "sm89", "--backend", "onnx_trt"]
    args += ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    if out is not None:
        args += ["-o", str(out)]
    return args + list(extra)


# --- 1. data loss -----------------------------------------------------------------------
def test_1_output_equal_to_the_model_is_refused(tmp_path: Path, capsys: Any) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    before = model.read_bytes()
    code, _, err = cli(capsys, *convert_args(model, model))
    assert code == 2 and "would overwrite the source" in err and "hint:" in err
    assert model.read_bytes() == before
    # the sidecar of the output would be the model: refused as well
    sidecar_model = tmp_path / "m.engine.json"
    shutil.copy(model, sidecar_model)
    code, _, err = cli(capsys, *convert_args(sidecar_model, tmp_path / "m.engine"))
    assert code == 2 and str(sidecar_model) in err


def test_1_engine_save_refuses_its_own_source(tmp_path: Path) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    before = model.read_bytes()
    engine = trtforge.convert(model, backend="onnx_trt", target="sm89", cache=False)
    with pytest.raises(UsageError, match="would overwrite the source"):
        engine.save(model)
    assert model.read_bytes() == before


def test_1_output_inside_a_source_folder_is_refused(tmp_path: Path) -> None:
    from trtforge.guard import refuse_output_over_sources

    (tmp_path / "saved_model").mkdir()
    with pytest.raises(UsageError, match="would overwrite the source"):
        refuse_output_over_sources(tmp_path / "saved_model" / "x.engine", [tmp_path / "saved_model"])
    refuse_output_over_sources(tmp_path / "x.engine", [tmp_path / "saved_model"])


def test_1_cache_clear_refuses_a_folder_that_is_not_a_cache(tmp_path: Path, capsys: Any) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print(1)\n")
    (project / "notes.txt").write_text("mine\n")
    code, _, err = cli(capsys, "cache", "clear", "--cache-dir", project)
    assert code == 1 and "is not a trtforge engine cache" in err and "hint:" in err
    assert (project / "notes.txt").is_file() and (project / "src" / "main.py").is_file()


def test_1_cache_clear_removes_only_entries(tmp_path: Path, capsys: Any) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    cache = tmp_path / "cache"
    assert cli(capsys, *convert_args(model, None, cache))[0] == 0
    (cache / "README.txt").write_text("a user file in the cache folder\n")
    (cache / "ab").mkdir()
    (cache / "ab" / "keep.txt").write_text("not an entry\n")
    code, out, _ = cli(capsys, "cache", "clear", "--cache-dir", cache)
    assert code == 0 and "removed 1 engine(s)" in out
    assert (cache / "README.txt").is_file() and (cache / "ab" / "keep.txt").is_file()
    assert EngineCache(cache).entries() == []
    # a cache written before the marker existed is recognised by its entries' layout
    assert cli(capsys, *convert_args(model, None, cache))[0] == 0
    (cache / ".trtforge-cache").unlink()
    code, out, _ = cli(capsys, "cache", "clear", "--cache-dir", cache)
    assert code == 0 and "removed 1 engine(s)" in out


# --- 2. wrong verdicts ------------------------------------------------------------------
def test_2_check_refuses_a_snapshot_of_another_plan(tmp_path: Path, capsys: Any) -> None:
    a, b = tiny_onnx(tmp_path / "a.onnx", seed=0), tiny_onnx(tmp_path / "b.onnx", seed=1)
    assert cli(capsys, *convert_args(a, tmp_path / "a.engine", None, "--snapshot"))[0] == 0
    assert cli(capsys, *convert_args(b, tmp_path / "b.engine", None, "--snapshot"))[0] == 0
    assert cli(capsys, "check", b, tmp_path / "b.engine")[0] == 0
    for suffix in (".snapshot.json", ".snapshot.npz"):
        shutil.copy(tmp_path / f"a.engine{suffix}", tmp_path / f"b.engine{suffix}")
    code, _, err = cli(capsys, "check", b, tmp_path / "b.engine")
    assert code == 1 and "belongs to another plan" in err
    assert "b.engine.snapshot.json" in err and str(tmp_path / "b.engine") in err and "hint:" in err
    # only the weights swapped: the pair does not match either
    shutil.copy(tmp_path / "a.engine", tmp_path / "c.engine")
    shutil.copy(sidecar_path(tmp_path / "a.engine"), sidecar_path(tmp_path / "c.engine"))
    shutil.copy(tmp_path / "a.engine.snapshot.json", tmp_path / "c.engine.snapshot.json")
    assert cli(capsys, *convert_args(b, tmp_path / "d.engine", None, "--snapshot"))[0] == 0
    shutil.copy(tmp_path / "d.engine.snapshot.npz", tmp_path / "c.engine.snapshot.npz")
    code, _, err = cli(capsys, "check", a, tmp_path / "c.engine")
    assert code == 1 and "belong to another snapshot" in err


def test_2_check_with_an_unknown_precision_is_a_usage_error(tmp_path: Path, capsys: Any) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    assert cli(capsys, *convert_args(model, tmp_path / "t.engine", None, "--snapshot"))[0] == 0
    code, out, err = cli(capsys, "check", model, tmp_path / "t.engine", "--precision", "bogus")
    assert code == 2 and "'bogus' has no tolerance policy" in err and "PASS" not in out


def test_2_compare_exits_non_zero_when_every_route_failed(tmp_path: Path, capsys: Any) -> None:
    model = tiny_onnx(tmp_path / "custom.onnx", op="NoSuchOp", domain="my.ops")
    code, _, err = cli(capsys, "compare", model, "--backends", "onnx_trt", "--precisions", "fp32",
                       "--target", "sm89", "--no-cache", "--no-baselines")
    assert code == 1 and "every conversion" in err


# --- 3. concurrency ---------------------------------------------------------------------
def test_3_clear_waits_for_a_writer_and_a_plan_less_entry_is_not_ok(tmp_path: Path, capsys: Any) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    cache_dir = tmp_path / "cache"
    assert cli(capsys, *convert_args(model, None, cache_dir))[0] == 0
    cache = EngineCache(cache_dir)
    done: list[int] = []
    with cache.writing():  # what put() holds while it stages and renames an entry
        worker = threading.Thread(target=lambda: done.append(EngineCache(cache_dir).clear()))
        worker.start()
        time.sleep(0.3)
        assert worker.is_alive() and not done, "clear() must wait for the writer"
    worker.join(10)
    assert done == [1]
    assert cli(capsys, *convert_args(model, None, cache_dir))[0] == 0
    (entry,) = cache.entries()
    (entry.path / "engine.plan").unlink()
    (entry,) = cache.entries()
    assert entry.error and "missing" in entry.error
    code, out, _ = cli(capsys, "cache", "list", "--cache-dir", cache_dir)
    assert code == 0 and "missing" in out


# --- 4. poisoned entries and sidecars ----------------------------------------------------
@pytest.mark.parametrize("poison", ["plan-not-dict", "deep", "huge", "inputs-not-list"])
def test_4_poisoned_cache_sidecar_is_evicted_and_rebuilt(tmp_path: Path, capsys: Any, poison: str) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    cache_dir = tmp_path / "cache"
    assert cli(capsys, *convert_args(model, None, cache_dir))[0] == 0
    (entry,) = EngineCache(cache_dir).entries()
    side = entry.path / "engine.plan.json"
    meta = json.loads(side.read_text())
    if poison == "plan-not-dict":
        meta["plan"] = "x"
        side.write_text(json.dumps(meta))
    elif poison == "deep":
        side.write_text('{"a":' * 100000 + "1" + "}" * 100000)
    elif poison == "huge":
        meta["notes"] = ["x" * (5 << 20)]
        side.write_text(json.dumps(meta))
    else:
        meta["inputs"] = {"x": 1}
        side.write_text(json.dumps(meta))
    code, out, err = cli(capsys, *convert_args(model, tmp_path / "t.engine", cache_dir))
    assert code == 0, err
    assert "(from cache)" not in out and Engine.load(tmp_path / "t.engine", check_compatibility=False)


@pytest.mark.parametrize("command", ["inspect", "check", "bench"])
def test_4_poisoned_engine_sidecar_is_refused_naming_it(tmp_path: Path, capsys: Any, command: str) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    engine = tmp_path / "t.engine"
    assert cli(capsys, *convert_args(model, engine, None, "--snapshot"))[0] == 0
    meta = json.loads(sidecar_path(engine).read_text())
    meta["tensorrt"] = ["not", "a", "dict"]
    sidecar_path(engine).write_text(json.dumps(meta))
    args = [command, engine] if command != "check" else [command, model, engine]
    code, _, err = cli(capsys, *args)
    assert code == 1 and "field 'tensorrt'" in err and str(sidecar_path(engine)) in err
    assert "unexpected" not in err


def test_4_corrupt_cached_snapshot_is_evicted_and_rebuilt(tmp_path: Path, capsys: Any) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    cache_dir = tmp_path / "cache"
    assert cli(capsys, *convert_args(model, None, cache_dir))[0] == 0
    (entry,) = EngineCache(cache_dir).entries()
    (entry.path / "snapshot.npz").write_bytes(b"not a zip")
    code, out, err = cli(capsys, *convert_args(model, tmp_path / "t.engine", cache_dir, "--snapshot"))
    assert code == 0, err
    assert (tmp_path / "t.engine.snapshot.npz").is_file()
    assert cli(capsys, "check", model, tmp_path / "t.engine")[0] == 0


# --- 5. Ctrl-C during a build -----------------------------------------------------------
def test_5_ctrl_c_during_the_tensorrt_build_is_raised_and_nothing_is_written(
        tmp_path: Path, ctrl_c_during_build: dict[str, bool]) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        trtforge.convert(model, backend="onnx_trt", target="sm89", cache=cache)
    assert ctrl_c_during_build["fired"]
    assert EngineCache(cache).entries() == []


# --- 6. rich markup ---------------------------------------------------------------------
def test_6_markup_in_paths_never_crashes_the_cli(tmp_path: Path, capsys: Any) -> None:
    model = tiny_onnx(tmp_path / "a[" / "b]" / "[bold]m[red].onnx")
    cache = tmp_path / "c[/red]"
    out = tmp_path / "a[" / "b]" / "[/]o.engine"
    code, stdout, err = cli(capsys, *convert_args(model, out, cache, "--snapshot"))
    assert code == 0, err
    assert "[bold]m[red].onnx" in stdout and out.is_file()
    for args in (["cache", "list", "--cache-dir", cache], ["inspect", out], ["check", model, out]):
        code, stdout, err = cli(capsys, *args)
        assert code == 0 and "MarkupError" not in err, err


# --- 7. partial files -------------------------------------------------------------------
def test_7_no_plan_is_left_when_its_sidecar_cannot_be_written(tmp_path: Path, capsys: Any) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    out = tmp_path / "t.engine"
    sidecar_path(out).mkdir()  # the sidecar cannot be renamed onto a folder
    code, _, err = cli(capsys, *convert_args(model, out))
    assert code == 1 and "cannot write the engine" in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.engine.json", "tiny.onnx"]


def test_7_stale_staging_and_work_folders_are_cleaned(tmp_path: Path, capsys: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    model = tiny_onnx(tmp_path / "tiny.onnx")
    cache_dir = tmp_path / "cache"
    assert cli(capsys, *convert_args(model, None, cache_dir))[0] == 0
    (entry,) = EngineCache(cache_dir).entries()
    dead = 2 ** 22 + 12345  # above pid_max's default: no such process
    stale = entry.path.parent / f".{entry.key[:12]}.p{dead}.abcd"
    stale.mkdir()
    (stale / "engine.plan").write_bytes(b"half")
    old = entry.path.parent / f".{entry.key[:12]}.legacy"
    old.mkdir()
    os.utime(old, (time.time() - 3 * 86400,) * 2)
    live = entry.path.parent / f".{entry.key[:12]}.p{os.getpid()}.live"
    live.mkdir()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    (tmp / f"trtforge-onnx_trt.p{dead}.xyz").mkdir()
    (tmp / f"trtforge-onnx_trt.p{os.getpid()}.mine").mkdir()
    (tmp / "other-tool-folder").mkdir()
    zoo = tmp / "trtforge-zoo-abcdefgh"  # results handed to a caller, never work folders
    zoo.mkdir()
    os.utime(zoo, (time.time() - 3 * 86400,) * 2)
    legacy = tmp / "trtforge-onnx_trt-abcd1234"
    legacy.mkdir()
    os.utime(legacy, (time.time() - 3 * 86400,) * 2)
    code, _, _ = cli(capsys, "cache", "list", "--cache-dir", cache_dir)
    assert code == 0
    assert not stale.exists() and not old.exists() and live.exists()
    assert sorted(p.name for p in tmp.iterdir()) == sorted(
        [f"trtforge-onnx_trt.p{os.getpid()}.mine", "other-tool-folder", "trtforge-zoo-abcdefgh"])


def test_7_sigterm_unwinds_so_finally_blocks_run() -> None:
    from trtforge.guard import terminate_cleanly

    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert terminate_cleanly() is previous
        with pytest.raises(SystemExit) as caught:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        assert caught.value.code == 143
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- 8. raw errors ----------------------------------------------------------------------
@pytest.mark.parametrize("extra, fragment", [
    (["--option", "opset=abc"], "option opset must be an integer"),
    (["--workspace", "-1"], "--workspace must be a positive"),
])
def test_8_bad_route_options_are_usage_errors(tmp_path: Path, capsys: Any, extra: list[str],
                                             fragment: str) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    code, _, err = cli(capsys, *convert_args(model, None, None, *extra))
    assert code == 2 and fragment in err and "unexpected" not in err


def test_8_calibration_arguments_are_checked() -> None:
    from trtforge.int8.calibration import Calibration
    from trtforge.conversion.specs import InputSpec

    with pytest.raises(UsageError, match="batch_size must be a positive integer"):
        Calibration(data=np.zeros((4, 3)), batch_size=0)
    with pytest.raises(UsageError, match="is a string"):
        Calibration(data="images/")
    calib = Calibration(data=np.zeros((4, 3, 5, 5), np.float32), batch_size=2)
    spec = InputSpec("x", shape=(1, 3, 8, 8))
    with pytest.raises(UsageError, match=r"calibration batch 0: input 'x' has shape 2x3x5x5"):
        list(calib.batches(["x"], {"x": spec}))


def test_8_pickled_npz_and_fifo_and_sys_exit(tmp_path: Path, capsys: Any) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    engine = tmp_path / "t.engine"
    assert cli(capsys, *convert_args(model, engine, None, "--snapshot"))[0] == 0
    pickled = tmp_path / "inputs.npz"
    np.savez(pickled, x=np.array([{"a": 1}], dtype=object))
    code, _, err = cli(capsys, "check", model, engine, "--inputs", pickled)
    assert code == 2 and "pickled" in err and str(pickled) in err
    fifo = tmp_path / "fifo.engine"
    os.mkfifo(fifo)
    shutil.copy(sidecar_path(engine), sidecar_path(fifo))
    start = time.monotonic()
    code, _, err = cli(capsys, "inspect", fifo)
    assert code == 1 and "not a regular file" in err and time.monotonic() - start < 5
    script = tmp_path / "model.py"
    script.write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(ModelSourceError, match=r"model.py called sys.exit\(3\)"):
        trtforge.convert(str(script), target="sm89", cache=False)


def test_8_check_runs_an_onnx_ir_version_onnxruntime_cannot_load(tmp_path: Path, capsys: Any) -> None:
    import onnx

    model = tiny_onnx(tmp_path / "tiny.onnx")
    assert onnx.load(str(model)).ir_version >= 14
    assert cli(capsys, *convert_args(model, tmp_path / "t.engine", None, "--snapshot"))[0] == 0
    code, out, err = cli(capsys, "check", model, tmp_path / "t.engine")
    assert code == 0 and "PASS" in out, err


# --- 9. silently accepted bad input -------------------------------------------------------
@pytest.mark.parametrize("extra, fragment", [
    (["--input", "x:int32:1x3x8x8"], "input 'x' is float32 in the model, not int32"),
    (["--input", "x:1x3x8x8", "--input", "x:1x3x8x8"], "input 'x' is described more than once"),
    (["-o", ""], "-o path is empty"),
])
def test_9_bad_input_is_refused(tmp_path: Path, capsys: Any, extra: list[str], fragment: str) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    code, _, err = cli(capsys, *convert_args(model, None, None, *extra))
    assert code == 2 and fragment in err, err


def test_9_nan_in_calibration_names_the_batch() -> None:
    from trtforge.int8.calibration import Calibration

    data = np.zeros((6, 3, 8, 8), np.float32)
    data[5, 0, 0, 0] = np.nan
    with pytest.raises(UsageError, match=r"calibration batch 2: input 'x' has 1 NaN/Inf"):
        list(Calibration(data=data, batch_size=2).batches(["x"]))


# --- 10. permissions and claimed fields ---------------------------------------------------
def test_10_files_get_umask_permissions_and_edited_versions_are_caught(tmp_path: Path,
                                                                      capsys: Any) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    engine, cache = tmp_path / "t.engine", tmp_path / "cache"
    old = os.umask(0o022)
    try:
        assert cli(capsys, *convert_args(model, engine, cache, "--snapshot"))[0] == 0
    finally:
        os.umask(old)
    for path in (engine, sidecar_path(engine), tmp_path / "t.engine.snapshot.npz"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    (entry,) = EngineCache(cache).entries()
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o755
    assert stat.S_IMODE((entry.path / "engine.plan").stat().st_mode) == 0o644
    meta = json.loads(sidecar_path(engine).read_text())
    meta["tensorrt"]["version"] = "9.9.9"
    sidecar_path(engine).write_text(json.dumps(meta))
    code, _, err = cli(capsys, "inspect", engine)
    assert code == 1 and "says TensorRT 9.9.9" in err and "(its header)" in err
    meta["tensorrt"]["version"], meta["precision"] = "1.7.1", "int8"
    sidecar_path(engine).write_text(json.dumps(meta))
    code, out, _ = cli(capsys, "inspect", engine)
    assert code == 0 and "claimed by the sidecar" in out and "precision" in out


def test_5_ctrl_c_inside_a_parser_callback_is_not_swallowed(tmp_path: Path,
                                                           sigint_raises: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from trtforge.tensorrt import trt as trt_module

    model = tiny_onnx(tmp_path / "tiny.onnx")
    original = trt_module._Logger._record
    fired = {"n": 0}

    def interrupting(self: Any, severity: Any, msg: str) -> None:
        fired["n"] += 1
        if fired["n"] == 1:  # the first message comes from the ONNX parser
            signal.raise_signal(signal.SIGINT)
        original(self, severity, msg)

    monkeypatch.setattr(trt_module._Logger, "_record", interrupting)
    with pytest.raises(KeyboardInterrupt):
        trtforge.convert(model, backend="onnx_trt", target="sm89", cache=False)
    assert fired["n"] >= 1


def test_10_an_edited_precision_does_not_loosen_the_check(tmp_path: Path, capsys: Any) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    engine = tmp_path / "t.engine"
    assert cli(capsys, *convert_args(model, engine, None, "--snapshot"))[0] == 0
    meta = json.loads(sidecar_path(engine).read_text())
    meta["precision"] = "int8"  # claimed only: the network holds no INT8 tensor
    sidecar_path(engine).write_text(json.dumps(meta))
    code, out, _ = cli(capsys, "check", model, engine, "--json")
    report = json.loads(out)
    assert code == 0 and report["precision"] == "fp32"
    assert any("claims int8" in note for note in report["notes"])
