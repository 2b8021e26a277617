"""Content-addressed engine cache.

Key: source fingerprint, route, precision, input specs and profiles, build settings, route
options, TensorRT flavor+version, target GPU and trtforge version. An entry is a folder
``<root>/<key[:2]>/<key>/`` holding ``engine.plan`` and its sidecar. Entries are written into
a temporary folder and renamed into place, and a per-key file lock makes a second process
wait for the first instead of building twice. A corrupt entry is logged, removed and rebuilt.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from trtforge.engine import Engine
from trtforge.errors import CacheError, EngineFileError

log = logging.getLogger(__name__)

CACHE_ENV = "TRTFORGE_CACHE_DIR"
PLAN_NAME = "engine.plan"


def default_cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "trtforge" / "engines"


def cache_key(parts: dict[str, Any]) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    key: str
    path: Path
    metadata: dict[str, Any] | None
    size: int
    error: str | None = None


class EngineCache:
    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root else default_cache_dir()

    def _entry_dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold an exclusive lock for ``key`` (no-op where fcntl does not exist)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        lock_dir = self.root / ".locks"
        try:
            lock_dir.mkdir(parents=True, exist_ok=True)
            handle = open(lock_dir / f"{key}.lock", "a+b")
        except OSError as exc:
            raise CacheError(f"cannot create a lock in the engine cache {self.root}: {exc}",
                             hint=f"set {CACHE_ENV} to a writable folder or pass cache=False") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def get(self, key: str) -> Engine | None:
        entry = self._entry_dir(key)
        plan = entry / PLAN_NAME
        if not entry.exists():
            return None
        try:
            engine = Engine.load(plan, check_compatibility=False)
        except EngineFileError as exc:
            log.warning("engine cache entry %s is corrupt (%s); removing it and rebuilding",
                        entry, exc.message)
            shutil.rmtree(entry, ignore_errors=True)
            return None
        from trtforge.snapshot import cached_snapshot_files

        files = cached_snapshot_files(entry)
        if files is not None:
            engine.extras["snapshot_files"] = files  # read when check() first needs it
        log.info("engine cache hit %s", key[:12])
        return engine

    def put(self, key: str, engine: Engine) -> Engine:
        """Store ``engine``; if another process stored the key first, keep and return theirs."""
        final = self._entry_dir(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", dir=final.parent))
        except OSError as exc:
            raise CacheError(f"cannot write to the engine cache {self.root}: {exc}",
                             hint=f"set {CACHE_ENV} to a writable folder or pass cache=False") from None
        try:
            copy = Engine(plan=engine.plan, metadata=dict(engine.metadata), extras=engine.extras)
            copy.save(staging / PLAN_NAME)
            for name, data in engine.extras.get("cache_files", {}).items():
                (staging / name).write_bytes(data)
            try:
                os.rename(staging, final)
            except OSError:
                if final.exists():
                    existing = self.get(key)
                    if existing is not None:
                        return existing
                    os.rename(staging, final)
                else:
                    raise
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        engine.metadata = copy.metadata
        # The plan is in memory and was just hashed into the sidecar: no need to read it back.
        return Engine(plan=engine.plan, metadata=copy.metadata, path=final / PLAN_NAME,
                      extras=dict(engine.extras))

    def entries(self) -> list[CacheEntry]:
        found = []
        if not self.root.is_dir():
            return found
        for shard in sorted(self.root.iterdir()):
            if not shard.is_dir() or shard.name.startswith("."):
                continue
            for entry in sorted(shard.iterdir()):
                if entry.name.startswith(".") or not entry.is_dir():
                    continue
                plan = entry / PLAN_NAME
                size = plan.stat().st_size if plan.exists() else 0
                try:
                    metadata = Engine.read_metadata(plan)
                    found.append(CacheEntry(entry.name, entry, metadata, size))
                except EngineFileError as exc:
                    found.append(CacheEntry(entry.name, entry, None, size, exc.message))
        return found

    def clear(self) -> int:
        count = len(self.entries())
        if self.root.is_dir():
            shutil.rmtree(self.root)
        return count
