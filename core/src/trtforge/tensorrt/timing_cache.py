"""Timing caches kept per GPU and TensorRT version, next to the engine cache.

Why: most of a TensorRT build is tactic timing; a timing cache remembers those timings, so a
rebuild after a small model change (or another precision of the same model) skips most of it.
Timings are only valid for one GPU and one TensorRT version, so the file name carries both:
``<engine cache root>/timing/<flavor>-<version>-<target>[-<gpu name>].cache``. The file holds
TensorRT's own serialized cache (``trtexec --timingCacheFile`` reads it too).

Concurrency: a build loads the current file, builds, then under a file lock re-reads the file,
merges what other builds wrote meanwhile (``ITimingCache.combine``) and atomically replaces it,
so two builds never lose each other's timings and a reader never sees half a file. A file
TensorRT cannot read is logged, ignored and replaced by the next build.

The merge logic goes through a small :class:`Codec` (load / combine / serialize) so that it is
unit-tested with plain bytes; :class:`TensorRTCodec` is the real one.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from trtforge.atomic import atomic_write_bytes

log = logging.getLogger(__name__)

TIMING_DIR = "timing"
SUFFIX = ".cache"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-")


def timing_cache_name(flavor: str, version: str, target: str | None, gpu_name: str | None = None) -> str:
    """File name for one TensorRT flavor+version and one GPU (``sm90`` + its product name)."""
    parts = [flavor, version, target or "this-gpu"]
    if gpu_name:
        parts.append(gpu_name)
    return "-".join(_slug(p) for p in parts) + SUFFIX


def default_timing_cache_path(cache_root: str | Path, tensorrt: Any, target: Any = None) -> Path:
    """The timing cache file for builds with ``tensorrt`` for ``target`` under ``cache_root``.

    The local GPU's name is added when the build is for that GPU (two GPUs of one compute
    capability, e.g. H100 and H200, time tactics differently).
    """
    from trtforge.tensorrt.gpu import probe_gpus

    name = getattr(target, "name", target)
    gpus = probe_gpus()
    gpu_name = None
    if gpus.found:
        local = gpus.gpus[0]
        if name is None:
            name = local.sm
        if name == local.sm:
            gpu_name = local.name
    return Path(cache_root) / TIMING_DIR / timing_cache_name(
        tensorrt.flavor, tensorrt.version, name, gpu_name)


def with_default_timing_cache(spec: Any, engine_cache: Any, tensorrt: Any) -> Any:
    """``spec`` with the engine cache's timing cache, unless the caller named one."""
    from dataclasses import replace

    if engine_cache is None or spec.settings.timing_cache:
        return spec
    path = default_timing_cache_path(engine_cache.root, tensorrt, spec.target)
    return replace(spec, settings=replace(spec.settings, timing_cache=str(path)))


# --- merging --------------------------------------------------------------------------
class Codec(Protocol):
    """The three timing-cache operations the merge needs (TensorRT's, or bytes in tests)."""

    def load(self, blob: bytes) -> Any:
        """A cache object from serialized bytes; raise ValueError when they are unreadable."""

    def combine(self, into: Any, other: Any) -> None:
        """Add ``other``'s entries to ``into``."""

    def serialize(self, cache: Any) -> bytes:
        ...


@dataclass
class LoadResult:
    blob: bytes
    cache: Any
    problem: str | None = None  # why the file on disk was ignored


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes() if path.is_file() else b""
    except OSError as exc:
        log.warning("timing cache %s cannot be read (%s); building without it", path, exc)
        return b""


def load(path: Path, codec: Codec) -> LoadResult:
    """The cache on disk, or an empty one (with a warning) when the file is corrupt."""
    blob = read_file(path)
    if blob:
        try:
            return LoadResult(blob, codec.load(blob))
        except ValueError as exc:
            problem = f"{exc}"
            log.warning("timing cache %s is corrupt (%s); ignoring it, the next build replaces it",
                        path, problem)
            return LoadResult(b"", codec.load(b""), problem)
    return LoadResult(b"", codec.load(b""))


def _locked(path: Path) -> Any:
    """An exclusive lock beside ``path`` while the file is merged and replaced."""
    from trtforge.atomic import file_lock

    return file_lock(path.with_name(path.name + ".lock"))


def merge_and_write(path: Path, cache: Any, loaded_blob: bytes, codec: Codec) -> bytes:
    """Merge what others wrote since ``loaded_blob`` was read into ``cache``; replace the file.

    Returns the bytes written. A file that became unreadable meanwhile is simply replaced.
    """
    with _locked(path):
        current = read_file(path)
        if current and current != loaded_blob:
            try:
                codec.combine(cache, codec.load(current))
            except ValueError as exc:
                log.warning("timing cache %s is corrupt (%s); replacing it", path, exc)
        data = codec.serialize(cache)
        atomic_write_bytes(path, data)
        return data


# --- TensorRT -------------------------------------------------------------------------
class TensorRTCodec:
    """Timing-cache operations on one builder config (TensorRT 8.6+, 10.x, 11.x)."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def load(self, blob: bytes) -> Any:
        try:
            cache = self.config.create_timing_cache(blob)
        except Exception as exc:  # the bindings raise various types for bad blobs
            raise ValueError(f"TensorRT cannot read it: {type(exc).__name__}: {exc}") from None
        if cache is None:
            raise ValueError("TensorRT cannot read it")
        return cache

    def combine(self, into: Any, other: Any) -> None:
        if not hasattr(into, "combine"):
            log.info("this TensorRT cannot combine timing caches; the newest build's cache wins")
            return
        if not into.combine(other, True):
            raise ValueError("TensorRT refused to combine it (another GPU or version?)")

    def serialize(self, cache: Any) -> bytes:
        return bytes(cache.serialize())


class BuildTimingCache:
    """The timing cache of one build: attached before it, merged and written after it."""

    def __init__(self, path: Path, config: Any) -> None:
        self.path = path
        self.codec = TensorRTCodec(config)
        self.config = config
        loaded = load(path, self.codec)
        self.loaded = loaded
        self.cache = loaded.cache
        if not config.set_timing_cache(self.cache, False):
            log.warning("timing cache %s does not fit this GPU/TensorRT; building with an empty one",
                        path)
            self.loaded = LoadResult(b"", self.codec.load(b""), "mismatch with this GPU/TensorRT")
            self.cache = self.loaded.cache
            config.set_timing_cache(self.cache, False)

    @classmethod
    def attach(cls, facts: Any, config: Any, path: str | None) -> tuple["BuildTimingCache | None", dict[str, Any] | None]:
        """Attach the cache at ``path`` to ``config``; the record says what happened and why."""
        if not path:
            return None, {"used": False, "why": "no timing cache (engine cache off, none given)"}
        if not facts.timing_cache:
            return None, {"path": str(path), "used": False,
                          "why": f"{facts.label} makes timing-cache operations no-ops"}
        return cls(Path(path), config), None

    def finish(self) -> dict[str, Any]:
        """Merge into the file and return the metadata record (bytes before/after)."""
        cache = self.config.get_timing_cache() or self.cache
        try:
            written = merge_and_write(self.path, cache, self.loaded.blob, self.codec)
        except OSError as exc:
            log.warning("timing cache %s not written (%s)", self.path, exc)
            written = b""
        record: dict[str, Any] = {"path": str(self.path), "used": True,
                                  "bytes_before": len(self.loaded.blob), "bytes_after": len(written)}
        if self.loaded.problem:
            record["ignored"] = self.loaded.problem
        return record
