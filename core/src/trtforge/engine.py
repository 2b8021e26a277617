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

from trtforge.atomic import atomic_write_bytes, atomic_write_json
from trtforge.errors import EngineCompatibilityError, EngineFileError

log = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".json"
FORMAT_VERSION = 1
REQUIRED_KEYS = ("format_version", "trtforge_version", "tensorrt", "plan", "route", "precision",
                 "inputs", "outputs")


def sidecar_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def plan_digest(plan: bytes) -> str:
    return hashlib.sha256(plan).hexdigest()


@dataclass
class Engine:
    """Plan bytes and metadata. ``metadata`` is plain JSON data (see ``describe``)."""

    plan: bytes
    metadata: dict[str, Any]
    path: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict, repr=False)

    # --- convenient views of the metadata ------------------------------------------
    @property
    def route(self) -> str:
        return str(self.metadata.get("route"))

    @property
    def precision(self) -> str:
        return str(self.metadata.get("precision"))

    @property
    def target(self) -> str | None:
        return self.metadata.get("target")

    @property
    def inputs(self) -> list[dict[str, Any]]:
        return list(self.metadata.get("inputs", []))

    @property
    def outputs(self) -> list[dict[str, Any]]:
        return list(self.metadata.get("outputs", []))

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
        path = Path(path).expanduser()
        if path.is_dir():
            raise EngineFileError(
                f"{path} is a directory", hint="give a file name, e.g. model.engine"
            )
        if snapshot:
            from trtforge.snapshot import engine_snapshot

            found = engine_snapshot(self)
            if found is None:
                raise EngineFileError(
                    "this engine has no network snapshot to save",
                    hint="convert the model again with this trtforge (snapshots are taken "
                    "during conversion)")
            found.save(path)
        metadata = dict(self.metadata)
        metadata["plan"] = {"size": len(self.plan), "sha256": plan_digest(self.plan)}
        atomic_write_bytes(path, self.plan)
        atomic_write_json(sidecar_path(path), metadata)
        self.metadata = metadata
        self.path = path
        log.info("engine written to %s (%d bytes) with sidecar", path, len(self.plan))
        return path

    @classmethod
    def read_metadata(cls, path: str | Path) -> dict[str, Any]:
        """Read and validate only the sidecar (no plan checks, no TensorRT needed)."""
        path = Path(path).expanduser()
        side = sidecar_path(path)
        if not side.is_file():
            raise EngineFileError(
                f"no sidecar {side.name} next to {path}",
                hint="trtforge engines are saved as PLAN + PLAN.json; rebuild with "
                "`trtforge convert ... -o` or copy the sidecar along with the plan",
            )
        try:
            metadata = json.loads(side.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EngineFileError(f"sidecar {side} is not valid JSON ({exc})",
                                  hint="the file is corrupt; rebuild the engine") from None
        if not isinstance(metadata, dict):
            raise EngineFileError(f"sidecar {side} does not hold a JSON object")
        missing = [k for k in REQUIRED_KEYS if k not in metadata]
        if missing:
            raise EngineFileError(f"sidecar {side} lacks {', '.join(missing)}",
                                  hint="the file is corrupt or not a trtforge sidecar")
        if metadata["format_version"] != FORMAT_VERSION:
            raise EngineFileError(
                f"sidecar {side} has format version {metadata['format_version']}, this trtforge "
                f"reads {FORMAT_VERSION}", hint="use the trtforge version that wrote it",
            )
        return metadata

    @classmethod
    def load(cls, path: str | Path, *, check_compatibility: bool = True) -> "Engine":
        path = Path(path).expanduser()
        if not path.exists():
            raise EngineFileError(f"engine file not found: {path}")
        if path.is_dir():
            raise EngineFileError(f"{path} is a directory, not an engine file",
                                  hint="give the .engine/.plan file inside it")
        metadata = cls.read_metadata(path)
        plan = path.read_bytes()
        expected = metadata["plan"]
        if len(plan) != expected.get("size"):
            raise EngineFileError(
                f"engine {path} is {len(plan)} bytes but its sidecar says {expected.get('size')}: "
                f"the plan is truncated or was replaced",
                hint="rebuild the engine",
            )
        if plan_digest(plan) != expected.get("sha256"):
            raise EngineFileError(f"engine {path} does not match the hash in its sidecar",
                                  hint="the plan was modified or corrupted; rebuild the engine")
        engine = cls(plan=plan, metadata=metadata, path=path)
        if check_compatibility:
            engine.check_compatibility()
        return engine

    def check_compatibility(self) -> None:
        """Refuse engines from another TensorRT flavor/version or for another GPU."""
        from trtforge.gpu import probe_gpus
        from trtforge.trt import tensorrt_identity

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
        return data

    # --- running on a GPU (trtforge.runtime; RuntimeUnavailableError says why not) ---
    def run(self, inputs: Any, *, cuda_graph: bool = False) -> dict[str, Any]:
        """Outputs by name, as numpy for numpy inputs and torch tensors for torch inputs."""
        from trtforge.runtime import runner_for

        return runner_for(self, cuda_graph=cuda_graph).run(inputs)

    def __call__(self, *inputs: Any) -> Any:
        from trtforge.runtime import runner_for

        return runner_for(self)(*inputs)

    def benchmark(self, batch_size: int = 1, iterations: int = 100, warmup: int = 10, *,
                  cuda_graph: bool = False, log: str | Path | None = None) -> dict[str, Any]:
        """Time the engine with CUDA events; statistics as in ``trtforge.benchmark``."""
        from trtforge.runtime import runner_for

        result = runner_for(self, cuda_graph=cuda_graph).benchmark(batch_size, iterations, warmup)
        if log is not None:
            result.append_to_log(log)
        return result.to_dict()
