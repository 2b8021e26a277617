"""``Program``: ordered stages with named tensors between them, with the Engine's surface.

Saved as one folder: ``program.json`` (manifest: stages, wiring, files with sizes and SHA-256,
TensorRT identity, the fallback report) beside one plan per engine stage (the format trtexec and
Triton load, with its sidecar and snapshot) and each framework stage in its framework's own
portable format. The folder is written next to its final place and renamed into it, so a
reader sees the old program or the new one, never half of one.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from trtforge.atomic import dir_mode, json_bytes
from trtforge.conversion.engine import MetadataViews, plan_digest
from trtforge.errors import EngineFileError, RuntimeUnavailableError, TrtforgeError, UsageError
from trtforge.program.stages import ENGINE_KIND, EngineStage, load_stage

log = logging.getLogger(__name__)

MANIFEST = "program.json"
FORMAT = "trtforge-program"
FORMAT_VERSION = 1
MANIFEST_MAX_BYTES = 8 << 20
DEVICES = ("auto", "gpu", "reference")


@dataclass
class Program(MetadataViews):
    """Stages in run order; ``metadata`` holds inputs, outputs, route, precision, the report."""

    stages: list[Any]
    metadata: dict[str, Any]
    path: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_engine(cls, engine: Any, framework: str) -> "Program":
        """A one-stage program of a fully converted engine: for callers whose artifact is a
        program folder whatever converted (e.g. TF-TRT's SavedModel-directory API)."""
        meta = engine.metadata
        inputs = [{"name": i["name"], "dtype": i["dtype"], "shape": list(i["shape"])} for i in meta["inputs"]]
        outputs = [{"name": o["name"], "dtype": o["dtype"]} for o in meta["outputs"]]
        names_in, names_out = [i["name"] for i in inputs], [o["name"] for o in outputs]
        stage = EngineStage("stage0_tensorrt", engine, names_in, names_out, [])
        metadata = {key: meta[key] for key in ("route", "precision", "source", "tensorrt",
                                              "trtforge_version", "created") if key in meta}
        # the fallback report of a model that converted whole: one TensorRT segment
        fallback = {"route": meta.get("route"), "framework_segments": 0, "graph_breaks": 0,
                    "stages": [{"kind": "tensorrt", "nodes": 0, "ops": {}, "inputs": names_in,
                                "outputs": names_out}],
                    "boundaries": [], "boundary_bytes": 0, "framework_ops": [],
                    "framework_mac_share": 0.0, "forced": [], "demoted": []}
        metadata.update({"inputs": inputs, "outputs": outputs, "profiles": list(meta.get("profiles", [])),
                         "framework": framework, "fallback": fallback})
        return cls(stages=[stage], metadata=metadata)

    # --- views (inputs, outputs, route, precision: MetadataViews) ----------------------
    @property
    def profiles(self) -> list[dict[str, Any]]:
        return list(self.metadata.get("profiles", []))

    @property
    def engine_stages(self) -> list[EngineStage]:
        return [s for s in self.stages if s.kind == ENGINE_KIND]

    @property
    def framework_stages(self) -> list[Any]:
        return [s for s in self.stages if s.kind != ENGINE_KIND]

    @property
    def fallback_report(self) -> dict[str, Any]:
        return dict(self.metadata.get("fallback", {}))

    def __repr__(self) -> str:
        kinds = "+".join(s.kind for s in self.stages)
        return f"<Program route={self.route} precision={self.precision} stages={kinds} path={self.path}>"

    # --- running ----------------------------------------------------------------------
    def _device(self, device: str) -> str:
        if device not in DEVICES:
            raise UsageError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
        if device != "auto":
            return device
        from trtforge.tensorrt.trt import get_tensorrt

        ok, _ = get_tensorrt().can_run()
        return "gpu" if ok else "reference"

    def _feeds(self, inputs: Any) -> dict[str, Any]:
        names = [i["name"] for i in self.inputs]
        if isinstance(inputs, Mapping):
            missing = [n for n in names if n not in inputs]
            if missing:
                raise UsageError(f"no input values for {missing}", hint=f"the program's inputs are {names}")
            return {n: inputs[n] for n in names}
        items = [inputs] if hasattr(inputs, "shape") else list(inputs)
        if len(items) != len(names):
            raise UsageError(f"the program has {len(names)} input(s) ({names}), got {len(items)}",
                             hint="give one array per input, or a dict by name")
        return dict(zip(names, items))

    def run(self, inputs: Any, *, device: str = "auto", timings: dict[str, float] | None = None,
            keep: dict[str, Any] | None = None) -> dict[str, Any]:
        """Outputs by name. ``device``: "gpu" (engines on the GPU, framework stages on CUDA, no
        host copies between stages), "reference" (engines through the CPU reference executor of
        their snapshots: how ``check`` runs a program without a GPU) or "auto" (gpu where
        TensorRT can run). Numpy in, numpy out; torch in, torch out. ``keep`` (reference only)
        receives every engine tensor and every stage output, for layer-by-layer debugging."""
        import numpy as np

        where = self._device(device)
        feeds = self._feeds(inputs)
        as_numpy = all(isinstance(v, np.ndarray) for v in feeds.values())
        values: dict[str, Any] = dict(feeds)
        if where == "gpu":
            import torch

            values = {k: (torch.as_tensor(v).cuda() if isinstance(v, np.ndarray) else v.cuda())
                      for k, v in values.items()}
        elif not as_numpy:
            from trtforge.arrays import to_numpy

            values = {k: to_numpy(v) for k, v in values.items()}
        for stage in self.stages:
            missing = [n for n in stage.inputs if n not in values]
            if missing:
                raise TrtforgeError(f"program stage {stage.name} reads {missing}, which no earlier "
                                    "stage writes", hint="the manifest is inconsistent; convert again")
            start = time.perf_counter()
            feeds_of_stage = {n: values[n] for n in stage.inputs}
            if keep is not None and isinstance(stage, EngineStage):
                produced = stage.run(feeds_of_stage, device=where, keep=keep)
            else:
                produced = stage.run(feeds_of_stage, device=where)
            if keep is not None and not isinstance(stage, EngineStage):
                keep.update(produced)  # an engine stage's tensors are in keep already
            values.update(produced)
            if timings is not None:
                timings[stage.name] = timings.get(stage.name, 0.0) + time.perf_counter() - start
        result = {o["name"]: values[o["name"]] for o in self.outputs}
        if as_numpy and where == "gpu":
            result = {k: v.detach().cpu().numpy() for k, v in result.items()}
        return result

    def __call__(self, *inputs: Any) -> Any:
        result = list(self.run(list(inputs)).values())
        return result[0] if len(result) == 1 else tuple(result)

    def benchmark(self, batch_size: int = 1, iterations: int = 100, warmup: int = 10) -> dict[str, Any]:
        """Time the whole program on the GPU with CUDA events, plus each stage's share."""
        from trtforge.tensorrt.trt import get_tensorrt

        ok, why = get_tensorrt().can_run()
        if not ok:
            raise RuntimeUnavailableError(
                f"cannot time a program here: {why}",
                hint="benchmark on a machine with an NVIDIA GPU and full TensorRT; check it here "
                "with trtforge.check")
        import torch

        from trtforge.report.benchmark import summarize

        feeds = self._benchmark_feeds(batch_size, torch)
        for _ in range(warmup):
            self.run(feeds, device="gpu")
        torch.cuda.synchronize()
        totals, stage_times = [], {s.name: 0.0 for s in self.stages}
        for _ in range(iterations):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            self.run(feeds, device="gpu")
            end.record()
            torch.cuda.synchronize()
            totals.append(start.elapsed_time(end))
        # The split: each stage timed with a synchronise after it (this adds the sync's cost).
        for _ in range(max(iterations // 4, 1)):
            values = dict(feeds)
            for stage in self.stages:
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                values.update(stage.run({n: values[n] for n in stage.inputs}, device="gpu"))
                torch.cuda.synchronize()
                stage_times[stage.name] += (time.perf_counter() - t0) * 1e3
        rounds = max(iterations // 4, 1)
        split = {name: round(ms / rounds, 4) for name, ms in stage_times.items()}
        result = dict(summarize([t / 1e3 for t in totals], batch_size))
        result["stages"] = [{"name": s.name, "kind": s.kind, "mean_ms": split[s.name]} for s in self.stages]
        return result

    def _benchmark_feeds(self, batch_size: int, torch: Any) -> dict[str, Any]:
        """Seeded inputs at the profiles' opt shapes with the batch asked for (a profile whose
        other dims start above 1 is honoured)."""
        from trtforge.arrays import default_inputs

        feeds = default_inputs(self, seed=0, batch_size=batch_size)
        return {name: torch.as_tensor(array).cuda() for name, array in feeds.items()}

    # --- files ------------------------------------------------------------------------
    def manifest(self, files: Mapping[str, bytes]) -> dict[str, Any]:
        from trtforge import __version__

        stages = []
        for stage in self.stages:
            entry = stage.describe()
            owned = [name for name in files if name == entry["file"] or name.startswith(entry["file"] + ".")]
            entry["files"] = {name: {"size": len(files[name]), "sha256": plan_digest(files[name])}
                              for name in sorted(owned)}
            stages.append(entry)
        data = dict(self.metadata)
        data.update({"format": FORMAT, "format_version": FORMAT_VERSION, "trtforge_version": __version__,
                     "stages": stages})
        return data

    def save(self, path: str | Path) -> Path:
        """Write the program folder as a unit; returns its path."""
        folder = Path(path).expanduser()
        if folder.exists() and not (folder.is_dir() and (folder / MANIFEST).is_file()):
            raise EngineFileError(f"{folder} exists and is not a trtforge program folder",
                                  hint="give a new folder name; an existing program folder is replaced")
        folder.parent.mkdir(parents=True, exist_ok=True)
        blobs: dict[str, bytes] = {}
        for stage in self.stages:
            for file_path, data in stage.files(Path(".")).items():
                blobs[file_path.name] = data
        manifest = self.manifest(blobs)
        blobs[MANIFEST] = json_bytes(manifest)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            for name, data in blobs.items():
                with open(staging / name, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            os.chmod(staging, dir_mode())
            _swap_in(staging, folder)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise EngineFileError(f"cannot write the program {folder}: {exc.strerror or exc}",
                                  hint="choose a folder you can write to, with free space") from None
        self.path = folder
        log.info("program written to %s (%d stage(s), %d files)", folder, len(self.stages), len(blobs))
        return folder

    @classmethod
    def load(cls, path: str | Path, *, check_compatibility: bool = True) -> "Program":
        folder = Path(path).expanduser()
        manifest_path = folder / MANIFEST
        if not manifest_path.is_file():
            raise EngineFileError(f"{folder} is not a trtforge program folder (no {MANIFEST})",
                                  hint="a program is saved with program.save(DIR) or `trtforge convert "
                                  "--fallback auto -o DIR`")
        data = read_manifest(manifest_path)
        for entry in data["stages"]:
            for name, expected in entry["files"].items():
                _verify_file(folder / name, expected, entry["name"])
        stages = [load_stage(folder, entry, check_compatibility=check_compatibility) for entry in data["stages"]]
        metadata = {k: v for k, v in data.items() if k != "stages"}
        return cls(stages=stages, metadata=metadata, path=folder)

    def describe(self) -> dict[str, Any]:
        data = dict(self.metadata)
        data["stages"] = [s.describe() for s in self.stages]
        data["path"] = str(self.path) if self.path else None
        return data


def _swap_in(staging: Path, folder: Path) -> None:
    """Rename ``staging`` to ``folder``; an old program there is moved aside first, then removed."""
    if not folder.exists():
        os.replace(staging, folder)
        return
    aside = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    os.replace(folder, aside)
    try:
        os.replace(staging, folder)
    except OSError:
        os.replace(aside, folder)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def read_manifest(path: Path) -> dict[str, Any]:
    from trtforge.guard import read_limited

    raw = read_limited(path, MANIFEST_MAX_BYTES, "program manifest", EngineFileError)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise EngineFileError(f"program manifest {path} is not valid JSON ({type(exc).__name__})",
                              hint="the folder is corrupt; convert again") from None
    return validate_manifest(data, str(path))


def validate_manifest(data: Any, where: str) -> dict[str, Any]:
    def bad(what: str) -> EngineFileError:
        return EngineFileError(f"program manifest {where}: {what}",
                               hint="the folder is corrupt or was edited; convert again")

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad(f"not a {FORMAT} manifest")
    if data.get("format_version") != FORMAT_VERSION:
        raise EngineFileError(f"program manifest {where} has format version {data.get('format_version')!r}, "
                              f"this trtforge reads {FORMAT_VERSION}", hint="use the trtforge that wrote it")
    stages = data.get("stages")
    if not isinstance(stages, list) or not stages:
        raise bad("'stages' is not a non-empty list")
    produced = {i.get("name") for i in data.get("inputs", []) if isinstance(i, dict)}
    for index, entry in enumerate(stages):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("name", "kind", "file")):
            raise bad(f"stage {index} lacks a name, kind or file")
        for key in ("inputs", "outputs"):
            if not isinstance(entry.get(key), list) or not all(isinstance(n, str) for n in entry[key]):
                raise bad(f"stage {entry['name']!r}: {key!r} is not a list of tensor names")
        files = entry.get("files")
        if not isinstance(files, dict) or entry["file"] not in files or not all(
                isinstance(v, dict) and isinstance(v.get("size"), int) and isinstance(v.get("sha256"), str)
                for v in files.values()):
            raise bad(f"stage {entry['name']!r}: 'files' does not list its files with size and sha256")
        for name in files:
            if Path(name).name != name or name in ("", ".", ".."):
                raise bad(f"stage {entry['name']!r}: file name {name!r} is not a plain name in the folder")
        unknown = [n for n in entry["inputs"] if n not in produced]
        if unknown:
            raise bad(f"stage {entry['name']!r} reads {unknown}, which no input or earlier stage gives")
        produced.update(entry["outputs"])
    for key in ("inputs", "outputs"):
        if not isinstance(data.get(key), list) or not all(
                isinstance(t, dict) and isinstance(t.get("name"), str) for t in data[key]):
            raise bad(f"{key!r} is not a list of tensors")
    missing = [o["name"] for o in data["outputs"] if o["name"] not in produced]
    if missing:
        raise bad(f"outputs {missing} are written by no stage")
    return data


def _verify_file(path: Path, expected: Mapping[str, Any], stage: str) -> None:
    if not path.is_file():
        raise EngineFileError(f"program stage {stage!r}: file {path} is missing",
                              hint="copy the whole program folder, or convert again")
    size = path.stat().st_size
    if size != expected["size"]:
        raise EngineFileError(f"program stage {stage!r}: {path} is {size} bytes, the manifest says "
                              f"{expected['size']}", hint="the file is truncated or was replaced; convert again")
    from trtforge.models.formats import hash_file

    if hash_file(path) != expected["sha256"]:
        raise EngineFileError(f"program stage {stage!r}: {path} does not match the hash in {MANIFEST}",
                              hint="the file was modified or corrupted; convert again")


def is_program_dir(path: str | Path) -> bool:
    return (Path(path).expanduser() / MANIFEST).is_file()
