#!/usr/bin/env python
"""Make the GPU seed fixtures here, on the CPU, where TensorFlow and the full torch stack are.

The GPU machine (TensorRT 8.6, PyTorch, onnxruntime; no TensorFlow) cannot export the TF seed
models nor run them for a reference, so this script does both ahead of time and writes, per
seed model, into ``OUT/<model>/``:

- ``<model>.onnx`` (model1..model3): the ONNX model the ``onnx_trt`` route prepared from the
  TF/Keras model (tf2onnx at opset 17, TensorRT 8.6's parser limit), dynamic batch kept;
- ``<model>-<route>-<precision>.snapshot.json`` + ``.snapshot.npz``: network snapshots, built for
  a batch profile 1/4/8, to be rebuilt on the GPU by ``trtforge.build_snapshot`` / ``trtforge
  build``: model1..3 through ``onnx_trt`` (fp32) and ``tf_trt`` (fp32; int8 for model1 and
  model3, calibrated here by running the graph in TensorFlow), model4 through ``torch2trt``
  (fp32). TensorFlow is absent on the GPU machine, so this is how the ``tf_trt`` route's
  networks reach TensorRT 8.6;
- ``inputs.npz`` (batch 4, seeded) and ``expected.npz``: the source framework's outputs for them
  (TensorFlow/Keras; torch for model4), keyed by the network's input and output names;

plus ``manifest.json`` (names, dtypes, shapes and dynamic dims, seed, versions, commit, file
sizes and SHA-256). Every ONNX file is run here with onnxruntime and every saved snapshot with
trtforge's CPU reference executor; either disagreeing with the source framework fails the run.
The folder is then packed into ``fixtures.tar`` and split into ``pack.NN`` parts (58 MiB at
most, a device call carries 64 MiB with the working tree) with ``pack.sha256``; the device
calls that move them are printed.

Usage (from the repository root)::

    .venv/bin/python tests/gpu/make_fixtures.py [--out DIR] [--models model1,model4]
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

log = logging.getLogger("make_fixtures")

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = Path("/work/main/.gpu-fixtures")
MANIFEST = "manifest.json"
FORMAT = "trtforge-gpu-fixtures"
FORMAT_VERSION = 2  # 2: several snapshots per model (route, precision)
SEED = 20261201          # inputs of model k are drawn from default_rng(SEED + k)
BATCH = 4                # stored inputs; also the profile's opt batch
MAX_BATCH = 8            # the profile's max batch (min is 1)
TARGET = "sm89"          # TensorRT-RTX builds ahead of time here; only the network matters
PART_BYTES = 58 * 1024 * 1024
TAR_NAME = "fixtures.tar"
DEVICE_TAR = "f.tar"     # the name the parts are joined to on the GPU machine
SHA_NAME = "pack.sha256"
DEVICE_DIR = "/tmp/fx"
# onnxruntime / the CPU reference executor vs the source framework, both fp32 on the CPU.
CPU_MAX_REL = 1e-4


@dataclass(frozen=True)
class SeedPlan:
    """How one seed model is built and which artifacts it gets."""

    name: str
    make: Callable[[Path], Any]
    function: str
    zoo_args: dict[str, Any]
    snapshots: tuple[tuple[str, str], ...]  # (route, precision); the first onnx_trt one gives the ONNX file
    onnx: bool


def _plans() -> dict[str, SeedPlan]:
    from trtforge_zoo import models as zoo

    def plan(name: str, fn: Callable[..., Any], args: dict[str, Any],
             snapshots: tuple[tuple[str, str], ...], onnx: bool, takes_dir: bool = True) -> SeedPlan:
        make = (lambda d: fn(d, **args)) if takes_dir else (lambda d: fn(**args))
        return SeedPlan(name, make, f"trtforge_zoo.models.{fn.__name__}", args, snapshots, onnx)

    tf_small = (("onnx_trt", "fp32"), ("tf_trt", "fp32"), ("tf_trt", "int8"))
    # model2's weights are 100 MiB a copy: its tf_trt int8 snapshot would add a device call.
    tf_large = (("onnx_trt", "fp32"), ("tf_trt", "fp32"))
    return {
        "model1": plan("model1", zoo.model1_frozen_convnet, {"input_size": 32}, tf_small, True),
        "model2": plan("model2", zoo.model2_keras_resnet50, {"input_size": 32}, tf_large, True),
        "model3": plan("model3", zoo.model3_tf_resnet50, {"input_size": 32, "width": 32},
                       tf_small, True),
        "model4": plan("model4", zoo.model4_torch_resnet50, {"input_size": 64},
                       (("torch2trt", "fp32"),), False, takes_dir=False),
    }


# --- small helpers ------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write(path: Path, data: bytes) -> None:
    from trtforge.atomic import atomic_write_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    _write(path, buffer.getvalue())


def _max_rel(got: np.ndarray, ref: np.ndarray) -> float:
    ref64 = np.asarray(ref, np.float64)
    diff = np.abs(np.asarray(got, np.float64).reshape(ref64.shape) - ref64)
    return float(diff.max() / max(float(np.abs(ref64).max()), 1e-12))


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _versions() -> dict[str, str | None]:
    import trtforge
    from trtforge.tensorrt.trt import get_tensorrt

    tensorrt = get_tensorrt()
    found: dict[str, str | None] = {
        "python": platform.python_version(),
        "trtforge": trtforge.__version__,
        "tensorrt": f"{tensorrt.flavor} {tensorrt.version}",
    }
    for dist in ("tensorflow-cpu", "tensorflow", "keras", "tf2onnx", "torch", "torchvision", "onnx",
                 "onnxruntime", "numpy", "protobuf", "onnxslim"):
        value = _version(dist)
        if value is not None:
            found[dist] = value
    # What the processes really imported (a wheel's metadata can differ from the module).
    for module in ("tensorflow", "torch", "torchvision"):
        loaded = sys.modules.get(module)
        if loaded is not None:
            found[f"{module} (imported)"] = getattr(loaded, "__version__", None)
    return found


def _commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True,
                              text=True).stdout.strip()

    try:
        head = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": head, "dirty": dirty}


def _git_ignore(folder: Path) -> None:
    """Keep git from seeing the fixtures folder (as gpu-rig/prepare.sh does for .rig/)."""
    try:
        top = Path(subprocess.run(["git", "-C", str(folder.parent), "rev-parse", "--show-toplevel"],
                                  check=True, capture_output=True, text=True).stdout.strip())
        common = subprocess.run(["git", "-C", str(top), "rev-parse", "--git-common-dir"],
                                check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return
    try:
        relative = folder.resolve().relative_to(top.resolve())
    except ValueError:
        return
    exclude = (top / common if not Path(common).is_absolute() else Path(common)) / "info" / "exclude"
    line = f"/{relative.as_posix()}/"
    existing = exclude.read_text().splitlines() if exclude.is_file() else []
    if line not in existing:
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a") as handle:
            handle.write(line + "\n")


# --- one seed model -------------------------------------------------------------------------
def _inputs_for(model: Any, index: int) -> np.ndarray:
    meta = model.inputs[0]
    shape = (BATCH, *model.input_shape[1:])
    rng = np.random.default_rng(SEED + index)
    if meta.dtype == "uint8":
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.standard_normal(shape).astype(meta.dtype)


def _profile(shape: tuple[int, ...]) -> dict[str, list[int]]:
    rest = list(shape[1:])
    return {"min": [1, *rest], "opt": [BATCH, *rest], "max": [MAX_BATCH, *rest]}


def _onnx_io(data: bytes) -> tuple[int, list[dict[str, Any]], list[str]]:
    import onnx

    model = onnx.load_from_string(data)
    opset = next(int(e.version) for e in model.opset_import if e.domain in ("", "ai.onnx"))
    inputs = []
    for value in model.graph.input:
        tensor = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        inputs.append({"name": value.name,
                       "dtype": onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name,
                       "dims": dims})
    return opset, inputs, [o.name for o in model.graph.output]


def _run_onnxruntime(path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return [np.asarray(v) for v in session.run(None, feeds)]


def _calibration_inputs(model: Any, count: int = 8) -> np.ndarray:
    """INT8 calibration batch (seeded; not the stored test inputs)."""
    shape = (count, *model.input_shape[1:])
    rng = np.random.default_rng(7)
    if model.inputs[0].dtype == "uint8":
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.standard_normal(shape).astype(model.inputs[0].dtype)


def _convert(plan: SeedPlan, model: Any, route: str, precision: str, spec: Any) -> Any:
    import trtforge

    extra: dict[str, Any] = {}
    if precision == "int8":
        # Calibrated by running the source graph; accuracy control off (as the route's seed
        # tests): the GPU compares against TensorFlow with the int8 tolerance and against the
        # CPU simulation of this very network.
        extra = {"calibration": _calibration_inputs(model), "options": {"int8_min_cosine": 0}}
    engine = trtforge.convert(model.model, backend=route, precision=precision, target=TARGET,
                              cache=False, inputs=[spec], **extra)
    from trtforge import Engine

    if not isinstance(engine, Engine):
        raise SystemExit(f"{plan.name}: {route} {precision} gave a {type(engine).__name__} (ops left to "
                         f"the source framework: {engine.metadata.get('notes')}); the fixture must be "
                         "one TensorRT network")
    coverage = engine.extras.get("artifacts", {}).get("tf_trt_coverage")
    if coverage is not None and not coverage.get("complete"):
        raise SystemExit(f"{plan.name}: tf_trt left ops to TensorFlow at {precision} "
                         f"({coverage}); the fixture must be one TensorRT network")
    return engine


def _snapshot_entry(plan: SeedPlan, model: Any, engine: Any, route: str, precision: str,
                    x: np.ndarray, expected: np.ndarray, folder: Path) -> dict[str, Any]:
    """Save one engine's snapshot, run it with the CPU reference executor, describe it."""
    from trtforge.verify.checking import compare_arrays, resolve_snapshot, tolerance_for
    from trtforge.reference.executor import execute
    from trtforge.verify.snapshot import Snapshot

    snapshot, _ = resolve_snapshot(engine)
    if len(snapshot.inputs) != 1 or len(snapshot.outputs) != 1:
        raise SystemExit(f"{plan.name} ({route}): expected one input and one output, the network has "
                         f"{[t['name'] for t in snapshot.inputs]} -> {[t['name'] for t in snapshot.outputs]}")
    input_name = snapshot.inputs[0]["name"]
    output_name = snapshot.outputs[0]["name"]
    stem = f"{plan.name}-{route}-{precision}"
    graph_path, weights_path = snapshot.save(folder / stem)
    saved = Snapshot.load(graph_path)  # check what is on disk, not what is in memory
    got = np.asarray(execute(saved, {input_name: x})[output_name], dtype=np.float32)
    error = _max_rel(got, expected)
    what = f"{plan.name}: the saved {route} {precision} snapshot, run by trtforge's CPU reference executor,"
    if precision == "fp32":
        if not error <= CPU_MAX_REL:
            raise SystemExit(f"{what} is {error:.3g} (max rel) from {model.framework}, above {CPU_MAX_REL:g}")
    else:
        metrics = compare_arrays(output_name, expected, got, tolerance_for(precision), classifier=True)
        if not metrics.passed:
            raise SystemExit(f"{what} fails {precision}'s tolerance against {model.framework}: "
                             f"{metrics.reasons}")
    log.info("%s %s %s: snapshot (CPU executor) vs %s max rel %.3g", plan.name, route, precision,
             model.framework, error)
    simulated = None
    if precision != "fp32":
        simulated = f"{plan.name}/{stem}.cpu.npz"
        _write_npz(folder / f"{stem}.cpu.npz", {output_name: got})
    dtypes = saved.tensor_dtypes()
    return {
        "route": route,
        "precision": precision,
        "file": f"{plan.name}/{graph_path.name}",
        "weights": f"{plan.name}/{weights_path.name}",
        "input_name": input_name,
        "output_name": output_name,
        "tensorrt": engine.metadata["tensorrt"],
        "layers": len(saved.layers),
        "layer_types": saved.summary(),
        "tensor_dtypes": sorted(set(dtypes.values())),
        # TensorRT < 10 has no INT64 tensors: a replay there must narrow these.
        "int64_tensors": sorted(name for name, dtype in dtypes.items() if dtype == "int64"),
        "profiles": saved.profiles,
        "cpu_executor_max_rel": error,
        "cpu_executor_outputs": simulated,
        "notes": list(engine.metadata.get("notes", [])),
    }


def make_one(plan: SeedPlan, index: int, out: Path, scratch: Path) -> dict[str, Any]:
    from trtforge import InputSpec

    started = time.perf_counter()
    folder = out / plan.name
    folder.mkdir(parents=True, exist_ok=True)
    model = plan.make(scratch / plan.name)
    x = _inputs_for(model, index)
    expected = np.ascontiguousarray(np.asarray(model.reference(x), dtype=np.float32))
    meta = model.inputs[0]
    profile = _profile(x.shape)
    spec = InputSpec(None, dtype=meta.dtype, min=profile["min"], opt=profile["opt"], max=profile["max"])
    engines = {(route, precision): _convert(plan, model, route, precision, spec)
               for route, precision in plan.snapshots}
    snapshots = [_snapshot_entry(plan, model, engine, route, precision, x, expected, folder)
                 for (route, precision), engine in engines.items()]
    # The stored arrays are keyed by the first snapshot's names; each snapshot says its own.
    input_name = snapshots[0]["input_name"]
    output_name = snapshots[0]["output_name"]
    entry: dict[str, Any] = {
        "name": plan.name,
        "description": model.description,
        "framework": model.framework,
        "source_kind": model.kind,
        "layout": model.layout,
        "zoo": {"function": plan.function, "args": {**plan.zoo_args, "seed": 0}},
        "seed": SEED + index,
        "batch": BATCH,
        "inputs": [{
            "name": input_name,
            "source_name": meta.name,
            "dtype": str(x.dtype),
            "shape": list(x.shape),
            "dims": [None, *x.shape[1:]],
            "dynamic_dims": [0],
            "profile": profile,
            "distribution": "uniform integers 0..255" if x.dtype == np.uint8 else "standard normal",
        }],
        "outputs": [{"name": output_name, "source_name": model.outputs[0].name,
                     "dtype": str(expected.dtype), "shape": list(expected.shape)}],
        "inputs_file": f"{plan.name}/inputs.npz",
        "expected_file": f"{plan.name}/expected.npz",
        "expected_stats": {"max_abs": float(np.abs(expected).max()),
                           "range": float(expected.max() - expected.min()),
                           "top1": [int(v) for v in expected.argmax(axis=1)]},
    }
    _write_npz(folder / "inputs.npz", {input_name: x})
    _write_npz(folder / "expected.npz", {output_name: expected})

    if plan.onnx:
        source = next(e for (r, p), e in engines.items() if r == "onnx_trt" and p == "fp32")
        onnx_snapshot = next(s for s in snapshots if s["route"] == "onnx_trt")
        data = source.extras["artifacts"]["onnx"]
        opset, onnx_inputs, onnx_outputs = _onnx_io(data)
        if opset != 17:
            raise SystemExit(f"{plan.name}: the prepared ONNX model has opset {opset}, not 17")
        if ([i["name"] for i in onnx_inputs] != [onnx_snapshot["input_name"]]
                or onnx_outputs != [onnx_snapshot["output_name"]]):
            raise SystemExit(f"{plan.name}: ONNX io {onnx_inputs} -> {onnx_outputs} differs from the "
                             f"network's {onnx_snapshot['input_name']} -> {onnx_snapshot['output_name']}")
        if onnx_inputs[0]["dims"][0] is not None:
            raise SystemExit(f"{plan.name}: the ONNX model's batch is fixed ({onnx_inputs[0]['dims']})")
        onnx_path = folder / f"{plan.name}.onnx"
        _write(onnx_path, data)
        (got,) = _run_onnxruntime(onnx_path, {onnx_snapshot["input_name"]: x})
        error = _max_rel(got, expected)
        if not error <= CPU_MAX_REL:
            raise SystemExit(f"{plan.name}: onnxruntime on {onnx_path.name} is {error:.3g} (max rel) from "
                             f"{model.framework}, above {CPU_MAX_REL:g}: the export is wrong")
        log.info("%s: onnxruntime vs %s max rel %.3g", plan.name, model.framework, error)
        entry["onnx"] = {
            "file": f"{plan.name}/{onnx_path.name}",
            "opset": opset,
            "exporter": f"tf2onnx {_version('tf2onnx')} via trtforge onnx_trt (prepared model, "
                        "after the route's passes)",
            "input_name": onnx_snapshot["input_name"],
            "output_name": onnx_snapshot["output_name"],
            "input_dims": onnx_inputs[0]["dims"],
            "onnxruntime_max_rel": error,
        }
    else:
        entry["onnx"] = None
    entry["snapshots"] = snapshots
    entry["seconds"] = round(time.perf_counter() - started, 1)
    return entry


# --- packing ------------------------------------------------------------------------------
def _pack(out: Path) -> list[Path]:
    """``fixtures.tar`` of everything in ``out`` (but the packs), split into ``pack.NN``."""
    for stale in list(out.glob("pack.*")) + [out / TAR_NAME]:
        stale.unlink(missing_ok=True)
    members = sorted(p for p in out.rglob("*") if p.is_file())
    fd, tmp_name = tempfile.mkstemp(prefix=".fixtures-", suffix=".tar", dir=out)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as archive:
            for path in members:
                info = archive.gettarinfo(str(path), arcname=path.relative_to(out).as_posix())
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 0  # same inputs -> same tar bytes
                with path.open("rb") as handle:
                    archive.addfile(info, handle)
        os.replace(tmp, out / TAR_NAME)
    finally:
        tmp.unlink(missing_ok=True)
    tar = out / TAR_NAME
    parts: list[Path] = []
    with tar.open("rb") as handle:
        while True:
            block = handle.read(PART_BYTES)
            if not block:
                break
            part = out / f"pack.{len(parts):02d}"
            _write(part, block)
            parts.append(part)
    lines = [f"{_sha256(tar)}  {DEVICE_TAR}"] + [f"{_sha256(p)}  {p.name}" for p in parts]
    _write(out / SHA_NAME, ("\n".join(lines) + "\n").encode())
    return parts


def device_calls(out: Path, parts: list[Path]) -> list[tuple[str, list[str]]]:
    """The device calls that carry the parts and unpack them in ``/tmp/fx`` on the GPU machine."""
    repo_top = _repo_root_of(out)
    rel = out.resolve().relative_to(repo_top).as_posix() if repo_top else out.name
    calls = []
    for i, part in enumerate(parts):
        carry = [f"{rel}/{part.name}"]
        command = f"mkdir -p {DEVICE_DIR} && cp {rel}/{part.name} {DEVICE_DIR}/"
        if i == len(parts) - 1:
            carry.append(f"{rel}/{SHA_NAME}")
            command += (f" && cat {DEVICE_DIR}/pack.[0-9][0-9] > {DEVICE_DIR}/{DEVICE_TAR}"
                        f" && cp {rel}/{SHA_NAME} {DEVICE_DIR}/{SHA_NAME}"
                        f" && (cd {DEVICE_DIR} && sha256sum -c {SHA_NAME})"
                        f" && tar -xf {DEVICE_DIR}/{DEVICE_TAR} -C {DEVICE_DIR}"
                        f" && rm {DEVICE_DIR}/pack.[0-9][0-9] && ls -l {DEVICE_DIR}")
        calls.append((command, carry))
    return calls


def _repo_root_of(folder: Path) -> Path | None:
    try:
        return Path(subprocess.run(["git", "-C", str(folder.parent), "rev-parse", "--show-toplevel"],
                                   check=True, capture_output=True, text=True).stdout.strip()).resolve()
    except (OSError, subprocess.CalledProcessError):
        return None


# --- main ---------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    # The ONNX fixtures are the onnx_trt route's prepared models, which engines keep only when
    # asked (option keep_onnx; the environment variable reaches whichever route converts).
    os.environ.setdefault("TRTFORGE_KEEP_ONNX", "1")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder ({DEFAULT_OUT})")
    parser.add_argument("--models", default="model1,model2,model3,model4",
                        help="comma-separated seed models (default: all four)")
    parser.add_argument("--no-pack", action="store_true", help="skip fixtures.tar and pack.NN")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("make_fixtures").setLevel(logging.INFO)

    commit = _commit()  # the code that makes the fixtures, read before anything changes
    plans = _plans()
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = sorted(set(names) - set(plans))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; known: {sorted(plans)}")
    out: Path = args.out.expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _git_ignore(out)
    # Build everything in a staging folder next to OUT and swap it in at the end, so a failed
    # or interrupted run never leaves a mix of old and new fixtures behind.
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-staging-", dir=out.parent))
    scratch = Path(tempfile.mkdtemp(prefix="trtforge-fixtures-"))
    try:
        entries = []
        for name in names:
            index = int(name.removeprefix("model"))
            print(f"{name}: building, converting, checking ...", flush=True)
            entry = make_one(plans[name], index, staging, scratch)
            print(f"{name}: done in {entry['seconds']} s", flush=True)
            entries.append(entry)
        files = {p.relative_to(staging).as_posix(): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
                 for p in sorted(staging.rglob("*")) if p.is_file()}
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            **commit,
            "versions": _versions(),
            "seed": SEED,
            "batch": BATCH,
            "profile_batches": {"min": 1, "opt": BATCH, "max": MAX_BATCH},
            "target": TARGET,
            "cpu_max_rel": CPU_MAX_REL,
            "models": entries,
            "files": files,
        }
        _write(staging / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
        old = out.with_name(f".{out.name}-old")
        if old.exists():
            shutil.rmtree(old)
        if out.exists():
            os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"\nfixtures in {out}:")
    for rel, info in manifest["files"].items():
        print(f"  {info['bytes'] / 2**20:9.2f} MiB  {rel}")
    if args.no_pack:
        return 0
    parts = _pack(out)
    total = (out / TAR_NAME).stat().st_size
    print(f"  {total / 2**20:9.2f} MiB  {TAR_NAME} -> {len(parts)} part(s) of at most "
          f"{PART_BYTES // 2**20} MiB, {SHA_NAME}")
    print("\ndevice calls, back to back (a machine is given back after a short idle time):")
    for i, (command, carry) in enumerate(device_calls(out, parts)):
        print(f"  {i + 1}. command: {command}\n     carry:   {json.dumps(carry)}")
    print("\nthen, on the same machine (after gpu-rig's setup):\n"
          f"  bash /tmp/kit/setup.sh > /tmp/setup.log && TRTFORGE_GPU_FIXTURES={DEVICE_DIR} "
          ".venv-gpu/bin/python -m pytest -m gpu -rs tests/gpu/test_gpu_seeds.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
