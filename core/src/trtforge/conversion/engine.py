"""``Engine``: a serialized TensorRT plan plus the metadata that makes it trustworthy.

``save(path)`` writes the raw plan (usable as-is by trtexec and Triton) and a JSON sidecar
``<path>.json``, both atomically. ``load(path)`` refuses a plan whose sidecar is missing or
corrupt, whose size or hash disagrees, or that another TensorRT version or GPU built.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtforge.atomic import atomic_write_unit, json_bytes
from trtforge.errors import EngineCompatibilityError, EngineFileError, TrtforgeError
from trtforge.guard import check_output_file, json_depth_ok, read_limited, require_regular_file

log = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".json"
FORMAT_VERSION = 1
REQUIRED_KEYS = ("format_version", "trtforge_version", "tensorrt", "plan", "route", "precision",
                 "inputs", "outputs")
SIDECAR_MAX_BYTES = 4 << 20
SIDECAR_MAX_DEPTH = 24
# Fields only the sidecar vouches for (the plan's hash, size and TensorRT version are checked).
CLAIMED_FIELDS = ("route", "precision", "target", "source", "inputs", "outputs", "build")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _tensor_ok(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("name"), str)
            and isinstance(value.get("dtype"), str) and isinstance(value.get("shape"), list)
            and all(_is_int(d) for d in value["shape"]))


def validate_sidecar(metadata: Any, where: str) -> dict[str, Any]:
    """Check the sidecar's shape: types of every field trtforge reads (a schema, by hand)."""
    def bad(field_name: str, expected: str) -> EngineFileError:
        return EngineFileError(f"sidecar {where}: field {field_name!r} is not {expected}",
                               hint="the file is corrupt or was edited; rebuild the engine")

    if not isinstance(metadata, dict):
        raise EngineFileError(f"sidecar {where} does not hold a JSON object",
                              hint="the file is corrupt or not a trtforge sidecar")
    if not json_depth_ok(metadata, SIDECAR_MAX_DEPTH):
        raise EngineFileError(f"sidecar {where} nests deeper than {SIDECAR_MAX_DEPTH} levels",
                              hint="the file is corrupt or not a trtforge sidecar")
    missing = [k for k in REQUIRED_KEYS if k not in metadata]
    if missing:
        raise EngineFileError(f"sidecar {where} lacks {', '.join(missing)}",
                              hint="the file is corrupt or not a trtforge sidecar")
    if metadata["format_version"] != FORMAT_VERSION:
        raise EngineFileError(
            f"sidecar {where} has format version {metadata['format_version']!r}, this trtforge "
            f"reads {FORMAT_VERSION}", hint="use the trtforge version that wrote it",
        )
    for key in ("trtforge_version", "route", "precision"):
        if not isinstance(metadata[key], str):
            raise bad(key, "a string")
    trt = metadata["tensorrt"]
    if not isinstance(trt, dict) or not all(isinstance(trt.get(k), str) for k in ("flavor", "version")):
        raise bad("tensorrt", "an object with string flavor and version")
    plan = metadata["plan"]
    if not isinstance(plan, dict) or not _is_int(plan.get("size")) or not (
            isinstance(plan.get("sha256"), str) and len(plan["sha256"]) == 64):
        raise bad("plan", "an object with an integer size and a sha256")
    for key in ("inputs", "outputs"):
        if not isinstance(metadata[key], list) or not all(_tensor_ok(t) for t in metadata[key]):
            raise bad(key, "a list of tensors (name, dtype, shape)")
    if metadata.get("target") is not None and not isinstance(metadata["target"], str):
        raise bad("target", "a string or null")
    for key in ("source", "build", "network", "cache", "fallbacks", "snapshot"):
        if key in metadata and not isinstance(metadata[key], dict):
            raise bad(key, "an object")
    if "notes" in metadata and not (isinstance(metadata["notes"], list)
                                    and all(isinstance(n, str) for n in metadata["notes"])):
        raise bad("notes", "a list of strings")
    profiles = metadata.get("profiles", [])
    if not isinstance(profiles, list) or not all(
            isinstance(p, dict) and isinstance(p.get("profiles"), list)
            and all(isinstance(q, dict) and all(isinstance(q.get(k), list)
                                                and all(_is_int(d) for d in q[k])
                                                for k in ("min", "opt", "max"))
                    for q in p["profiles"]) for p in profiles):
        raise bad("profiles", "a list of input profiles (min/opt/max shapes)")
    return metadata


def plan_header_version(plan: bytes) -> str | None:
    """The TensorRT version a plan's header names, where the format is known (TensorRT-RTX)."""
    if len(plan) >= 27 and plan[:4] == b"vtrt":
        return f"{plan[24]}.{plan[25]}.{plan[26]}"
    return None


def sidecar_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def plan_digest(plan: bytes) -> str:
    return hashlib.sha256(plan).hexdigest()


class MetadataViews:
    """What an engine and a hybrid program both say about themselves, read from ``metadata``."""

    metadata: dict[str, Any]

    @property
    def route(self) -> str:
        return str(self.metadata.get("route"))

    @property
    def precision(self) -> str:
        return str(self.metadata.get("precision"))

    @property
    def inputs(self) -> list[dict[str, Any]]:
        return list(self.metadata.get("inputs", []))

    @property
    def outputs(self) -> list[dict[str, Any]]:
        return list(self.metadata.get("outputs", []))


@dataclass
class Engine(MetadataViews):
    """Plan bytes and metadata. ``metadata`` is plain JSON data (see ``describe``)."""

    plan: bytes
    metadata: dict[str, Any]
    path: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def target(self) -> str | None:
        return self.metadata.get("target")

    @property
    def size(self) -> int:
        return len(self.plan)

    def __repr__(self) -> str:
        return (f"<Engine route={self.route} precision={self.precision} target={self.target} "
                f"size={self.size} path={self.path}>")

    # --- files ----------------------------------------------------------------------
    def save(self, path: str | Path, *, snapshot: bool = False) -> Path:
        """Write the plan and its sidecar atomically; returns the plan path.

        ``snapshot=True`` also writes the network snapshot (``PATH.snapshot.json`` and
        ``PATH.snapshot.npz``) that ``trtforge check`` runs on a machine without a GPU.
        """
        try:
            path = check_output_file(path, "engine path")
        except TrtforgeError as exc:
            raise EngineFileError(exc.message, hint=exc.hint) from None
        files, metadata = self.files(path, snapshot=snapshot)
        source_path = (self.metadata.get("source") or {}).get("path")
        if isinstance(source_path, str) and source_path:
            from trtforge.guard import refuse_output_over_sources

            for target in files:  # never replace the model this engine was built from
                refuse_output_over_sources(target, [source_path], what="engine path")
        try:
            atomic_write_unit(files)  # plan, sidecar and snapshot: all are written, or none
        except OSError as exc:
            raise EngineFileError(
                f"cannot write the engine {path}: {exc.strerror or exc}",
                hint="choose a folder you can write to, with free space") from None
        self.metadata = metadata
        self.path = path
        log.info("engine written to %s (%d bytes) with sidecar", path, len(self.plan))
        return path

    def files(self, path: Path, *, snapshot: bool = False) -> tuple[dict[Path, bytes], dict[str, Any]]:
        """The files ``save(path)`` writes (path -> bytes) and the sidecar's metadata, unwritten:
        a program folder writes its engine stages with its own files as one unit."""
        files: dict[Path, bytes] = {}
        if snapshot:
            from trtforge.verify.snapshot import engine_snapshot, snapshot_paths

            found = engine_snapshot(self)
            if found is None:
                raise EngineFileError(
                    "this engine has no network snapshot to save",
                    hint="convert the model again with this trtforge (snapshots are taken "
                    "during conversion)")
            graph_path, weights_path = snapshot_paths(path)
            found.bind_to_plan(self.plan)
            files[weights_path] = found.weights_bytes()
            files[graph_path] = found.json_bytes()
        metadata = dict(self.metadata)
        metadata["plan"] = {"size": len(self.plan), "sha256": plan_digest(self.plan)}
        files[path] = self.plan
        files[sidecar_path(path)] = json_bytes(metadata)
        return files, metadata

    @classmethod
    def read_metadata(cls, path: str | Path) -> dict[str, Any]:
        """Read and validate only the sidecar (no plan checks, no TensorRT needed)."""
        path = Path(path).expanduser()
        side = sidecar_path(path)
        if not side.exists() and not side.is_symlink():
            raise EngineFileError(
                f"no sidecar {side.name} next to {path}",
                hint="trtforge engines are saved as PLAN + PLAN.json; rebuild with "
                "`trtforge convert ... -o` or copy the sidecar along with the plan",
            )
        raw = read_limited(side, SIDECAR_MAX_BYTES, "sidecar", EngineFileError)
        try:
            metadata = json.loads(raw.decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EngineFileError(f"sidecar {side} is not valid JSON ({exc})",
                                  hint="the file is corrupt; rebuild the engine") from None
        except RecursionError:
            raise EngineFileError(f"sidecar {side} nests too deeply to be a trtforge sidecar",
                                  hint="the file is corrupt; rebuild the engine") from None
        return validate_sidecar(metadata, str(side))

    @classmethod
    def load(cls, path: str | Path, *, check_compatibility: bool = True) -> "Engine":
        path = Path(path).expanduser()
        if not path.exists():
            raise EngineFileError(f"engine file not found: {path}")
        if path.is_dir():
            raise EngineFileError(f"{path} is a directory, not an engine file",
                                  hint="give the .engine/.plan file inside it")
        require_regular_file(path, "engine file", EngineFileError)
        metadata = cls.read_metadata(path)
        expected = metadata["plan"]
        if path.stat().st_size != expected["size"]:
            raise EngineFileError(
                f"engine {path} is {path.stat().st_size} bytes but its sidecar says "
                f"{expected['size']}: the plan is truncated or was replaced",
                hint="rebuild the engine",
            )
        try:
            plan = path.read_bytes()
        except OSError as exc:
            raise EngineFileError(f"cannot read engine {path}: {exc.strerror or exc}",
                                  hint="check the file's permissions") from None
        return cls.from_bytes(plan, metadata, where=str(path), path=path,
                              check_compatibility=check_compatibility)

    @classmethod
    def from_bytes(cls, plan: bytes, metadata: Any, *, where: str, path: Path | None = None,
                   check_compatibility: bool = True) -> "Engine":
        """An engine from a plan and its sidecar metadata that arrived some other way (a
        state_dict, a network): the same checks as :meth:`load` (schema, size, hash, header)."""
        metadata = validate_sidecar(metadata, where)
        expected = metadata["plan"]
        if len(plan) != expected.get("size"):
            raise EngineFileError(
                f"engine {where} is {len(plan)} bytes but its sidecar says {expected.get('size')}: "
                f"the plan is truncated or was replaced",
                hint="rebuild the engine",
            )
        if plan_digest(plan) != expected.get("sha256"):
            raise EngineFileError(f"engine {where} does not match the hash in its sidecar",
                                  hint="the plan was modified or corrupted; rebuild the engine")
        header = plan_header_version(plan)
        claimed = metadata["tensorrt"]["version"]
        if header is not None and metadata["tensorrt"]["flavor"] == "tensorrt_rtx" and not (
                claimed == header or claimed.startswith(header + ".")):
            raise EngineFileError(
                f"the sidecar of {where} says TensorRT {claimed}, but the plan was built by "
                f"{header} (its header)", hint="the sidecar was edited; rebuild the engine")
        engine = cls(plan=plan, metadata=metadata, path=path)
        if check_compatibility:
            engine.check_compatibility()
        return engine

    def check_compatibility(self) -> None:
        """Refuse engines from another TensorRT flavor/version or for another GPU."""
        from trtforge.tensorrt.gpu import probe_gpus
        from trtforge.tensorrt.trt import tensorrt_identity

        built = self.metadata.get("tensorrt", {})
        here = tensorrt_identity()
        where = f" ({self.path})" if self.path else ""
        if here is not None and (built.get("flavor"), built.get("version")) != (
            here["flavor"], here["version"]
        ):
            raise EngineCompatibilityError(
                f"engine{where} was built by {built.get('flavor')} {built.get('version')}, but "
                f"this machine has {here['flavor']} {here['version']}",
                hint="TensorRT plans only load in the exact version that built them; rebuild "
                "the engine here (trtforge convert)",
            )
        target = self.metadata.get("target")
        gpus = probe_gpus()
        if target and gpus.found and gpus.gpus[0].sm != target:
            raise EngineCompatibilityError(
                f"engine{where} was built for {target}, but this machine's GPU is "
                f"{gpus.gpus[0].name} ({gpus.gpus[0].sm})",
                hint=f"rebuild with --target {gpus.gpus[0].sm}",
            )

    def describe(self) -> dict[str, Any]:
        data = dict(self.metadata)
        data["path"] = str(self.path) if self.path else None
        header = plan_header_version(self.plan)
        data["verified"] = {
            "plan": "size and sha256 match the sidecar",
            "tensorrt_version": f"{header} (plan header)" if header else "claimed by the sidecar",
            "claimed": list(CLAIMED_FIELDS),
        }
        return data

    # --- running on a GPU (trtforge.tensorrt.runtime; RuntimeUnavailableError says why not) ---
    def run(self, inputs: Any, *, cuda_graph: bool = False) -> dict[str, Any]:
        """Outputs by name, as numpy for numpy inputs and torch tensors for torch inputs."""
        from trtforge.tensorrt.runtime import runner_for

        return runner_for(self, cuda_graph=cuda_graph).run(inputs)

    def __call__(self, *inputs: Any) -> Any:
        from trtforge.tensorrt.runtime import runner_for

        return runner_for(self)(*inputs)

    def benchmark(self, batch_size: int = 1, iterations: int = 100, warmup: int = 10, *,
                  cuda_graph: bool = False, log: str | Path | None = None) -> dict[str, Any]:
        """Time the engine with CUDA events; statistics as in ``trtforge.report.benchmark``."""
        from trtforge.tensorrt.runtime import runner_for

        result = runner_for(self, cuda_graph=cuda_graph).benchmark(batch_size, iterations, warmup)
        if log is not None:
            result.append_to_log(log)
        return result.to_dict()
