"""Content-addressed engine cache.

Key: source fingerprint, route, precision, input specs and profiles, build settings, route
options, TensorRT flavor+version, target GPU and trtforge version. An entry is a folder
``<root>/<key[:2]>/<key>/`` holding ``engine.plan`` and its sidecar. Entries are written into
a temporary folder and renamed into place, and a per-key file lock makes a second process
wait for the first instead of building twice. A corrupt entry is logged, removed and rebuilt.

The cache owns only what it recognises: the marker file ``.trtforge-cache`` written when the
cache is created, entry folders of the layout above, its ``.locks`` and staging folders
(``.<key12>.p<pid>.*``, removed once their process is gone). ``clear()`` removes entries and
stale staging folders and nothing else, and refuses a folder that is not a cache. Writers hold
a shared lock on ``.locks/cache.lock`` while they stage and rename an entry; ``clear()`` holds
it exclusively, so a clear never pulls a half-written entry from under a build.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from trtforge.conversion.engine import Engine
from trtforge.errors import CacheError, EngineFileError

log = logging.getLogger(__name__)

CACHE_ENV = "TRTFORGE_CACHE_DIR"
PLAN_NAME = "engine.plan"
PROGRAM_NAME = "program"
MARKER_NAME = ".trtforge-cache"
LOCKS_NAME = ".locks"
_SHARD = re.compile(r"[0-9a-f]{2}")
_KEY = re.compile(r"[0-9a-f]{64}")
_STAGING = re.compile(r"\.[0-9a-f]{12}\..+")


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

    @staticmethod
    def is_entry_dir(path: Path) -> bool:
        """A folder of the cache's own layout: ``<2 hex>/<64 hex starting with them>``."""
        return (path.is_dir() and not path.is_symlink() and bool(_KEY.fullmatch(path.name))
                and path.parent.name == path.name[:2])

    def _ensure_root(self) -> None:
        """Create the cache folder and its marker (an existing marked folder is left as is)."""
        from trtforge.atomic import dir_mode, file_mode

        marker = self.root / MARKER_NAME
        if marker.is_file():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT, file_mode())
        with os.fdopen(fd, "w") as handle:
            handle.write("trtforge engine cache: entries are <key[:2]>/<key>/engine.plan\n")
        with contextlib.suppress(OSError):
            os.chmod(self.root, dir_mode())

    def is_cache(self) -> bool:
        """True for a folder the cache created (marker) or one holding entries of its layout."""
        if (self.root / MARKER_NAME).is_file():
            return True
        if not self.root.is_dir():
            return False
        for shard in self.root.iterdir():
            if shard.is_dir() and _SHARD.fullmatch(shard.name):
                if any(self.is_entry_dir(e) for e in shard.iterdir()):
                    return True
        return False

    @contextlib.contextmanager
    def _flock(self, name: str, exclusive: bool) -> Iterator[None]:
        from trtforge.atomic import file_lock

        with contextlib.ExitStack() as stack:
            try:
                self._ensure_root()
                stack.enter_context(file_lock(self.root / LOCKS_NAME / name, exclusive))
            except OSError as exc:
                raise CacheError(f"cannot create a lock in the engine cache {self.root}: "
                                 f"{exc.strerror or exc}",
                                 hint=f"set {CACHE_ENV} to a writable folder or pass cache=False") from None
            yield

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold an exclusive lock for ``key`` (no-op where fcntl does not exist)."""
        with self._flock(f"{key}.lock", exclusive=True):
            yield

    def writing(self) -> Any:
        """The shared side of the cache-wide lock (``clear`` takes it exclusively)."""
        return self._flock("cache.lock", exclusive=False)

    def _clean_staging(self, shard: Path) -> int:
        from trtforge.guard import is_stale

        removed = 0
        for item in shard.iterdir():
            if _STAGING.fullmatch(item.name) and item.is_dir() and is_stale(item):
                shutil.rmtree(item, ignore_errors=True)
                removed += 1
        return removed

    def _evict(self, entry: Path, why: str) -> None:
        log.warning("engine cache entry %s is corrupt (%s); removing it and rebuilding", entry, why)
        shutil.rmtree(entry, ignore_errors=True)

    def get(self, key: str) -> Engine | None:
        entry = self._entry_dir(key)
        plan = entry / PLAN_NAME
        if not entry.exists():
            return None
        try:
            engine = Engine.load(plan, check_compatibility=False)
        except EngineFileError as exc:
            self._evict(entry, exc.message)
            return None
        from trtforge.verify.snapshot import CACHE_JSON, CACHE_WEIGHTS, Snapshot, cached_snapshot_files

        files = cached_snapshot_files(entry)
        if files is None and ((entry / CACHE_JSON).exists() or (entry / CACHE_WEIGHTS).exists()):
            self._evict(entry, "half of its network snapshot is missing")
            return None
        if files is not None:
            # Validate now (a poisoned snapshot would break every later check), read it again
            # only when check() first needs it.
            try:
                graph_path, weights_path = (Path(f) for f in files)
                snap = Snapshot.from_bytes(graph_path.read_bytes(), weights_path.read_bytes(),
                                           str(graph_path))
                snap.check_binding(engine.metadata["plan"]["sha256"], str(plan), str(graph_path))
            except (EngineFileError, OSError) as exc:
                self._evict(entry, getattr(exc, "message", str(exc)))
                return None
            engine.extras["snapshot_files"] = files
        log.info("engine cache hit %s", key[:12])
        return engine

    def put(self, key: str, engine: Engine) -> Engine:
        """Store ``engine``; if another process stored the key first, keep and return theirs."""
        with self.writing():
            return self._put(key, engine)

    def _staging(self, final: Path, key: str) -> Path:
        """A fresh staging folder beside the entry ``final`` (stale ones of dead writers removed)."""
        from trtforge.atomic import dir_mode

        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            self._clean_staging(final.parent)
            staging = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.p{os.getpid()}.", dir=final.parent))
            os.chmod(staging, dir_mode())
        except OSError as exc:
            raise CacheError(f"cannot write to the engine cache {self.root}: {exc.strerror or exc}",
                             hint=f"set {CACHE_ENV} to a writable folder or pass cache=False") from None
        return staging

    def _put(self, key: str, engine: Engine) -> Engine:
        final = self._entry_dir(key)
        staging = self._staging(final, key)
        try:
            copy = Engine(plan=engine.plan, metadata=dict(engine.metadata), extras=engine.extras)
            try:
                copy.save(staging / PLAN_NAME)
                from trtforge.atomic import atomic_write_bytes

                for name, data in engine.extras.get("cache_files", {}).items():
                    atomic_write_bytes(staging / name, data)
            except (OSError, EngineFileError) as exc:
                raise CacheError(f"cannot write to the engine cache {self.root}: "
                                 f"{getattr(exc, 'message', None) or exc}",
                                 hint=f"free space, or set {CACHE_ENV} to a writable folder, or "
                                 "pass cache=False / --no-cache") from None
            existing = self._commit(staging, final, lambda: self.get(key))
            if existing is not None:
                return existing
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        engine.metadata = copy.metadata
        # The plan is in memory and was just hashed into the sidecar: no need to read it back.
        return Engine(plan=engine.plan, metadata=copy.metadata, path=final / PLAN_NAME,
                      extras=dict(engine.extras))

    def _commit(self, staging: Path, final: Path, reread: Callable[[], Any]) -> Any:
        """Rename the staged entry into place. If another process committed the key first, its
        entry wins (returned); one that does not read back was evicted by ``reread``, so ours
        takes its place. None: ours is in place."""
        try:
            os.rename(staging, final)
            return None
        except OSError:
            if final.exists():
                existing = reread()
                if existing is not None:
                    return existing
        try:
            os.rename(staging, final)
        except OSError as exc:
            raise CacheError(f"cannot store the cache entry {final}: {exc.strerror or exc}",
                             hint=f"free space, or set {CACHE_ENV} to a writable folder, or pass "
                             "cache=False / --no-cache") from None
        return None

    # --- hybrid programs: an entry holding PROGRAM_NAME/ (manifest, plans, framework stages) ---
    def get_program(self, key: str) -> Any:
        """The cached program of ``key``, or None (a corrupt entry is removed)."""
        from trtforge.program.program import Program

        entry = self._entry_dir(key)
        if not entry.exists():
            return None
        try:
            program = Program.load(entry / PROGRAM_NAME, check_compatibility=False)
        except EngineFileError as exc:
            self._evict(entry, exc.message)
            return None
        log.info("engine cache hit %s (program)", key[:12])
        return program

    def put_program(self, key: str, program: Any) -> Any:
        """Store ``program`` as one entry; if another process stored the key first, keep theirs."""
        with self.writing():
            final = self._entry_dir(key)
            staging = self._staging(final, key)
            try:
                try:
                    program.save(staging / PROGRAM_NAME)
                except EngineFileError as exc:
                    raise CacheError(f"cannot write to the engine cache {self.root}: {exc.message}",
                                     hint="free space, or pass cache=False / --no-cache") from None
                existing = self._commit(staging, final, lambda: self.get_program(key))
                if existing is not None:
                    return existing
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
            program.path = final / PROGRAM_NAME
            return program

    def entries(self) -> list[CacheEntry]:
        found: list[CacheEntry] = []
        for entry in self._entry_dirs():
            if (entry / PROGRAM_NAME).is_dir():
                found.append(self._program_entry(entry))
                continue
            plan = entry / PLAN_NAME
            size = plan.stat().st_size if plan.is_file() else 0
            try:
                metadata = Engine.read_metadata(plan)
            except EngineFileError as exc:
                found.append(CacheEntry(entry.name, entry, None, size, exc.message))
                continue
            error = None
            if not plan.is_file():
                error = f"the plan {PLAN_NAME} is missing"
            elif size != metadata["plan"]["size"]:
                error = f"the plan is {size} bytes but its sidecar says {metadata['plan']['size']}"
            found.append(CacheEntry(entry.name, entry, metadata, size, error))
        return found

    def _program_entry(self, entry: Path) -> CacheEntry:
        from trtforge.program.program import MANIFEST, read_manifest

        folder = entry / PROGRAM_NAME
        size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        try:
            data = read_manifest(folder / MANIFEST)
        except EngineFileError as exc:
            return CacheEntry(entry.name, entry, None, size, exc.message)
        expected = sum(v["size"] for stage in data["stages"] for v in stage["files"].values())
        expected += (folder / MANIFEST).stat().st_size
        error = None if size == expected else f"the program's files are {size} bytes, its manifest says {expected}"
        return CacheEntry(entry.name, entry, data, size, error)

    def _entry_dirs(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        entries = []
        for shard in sorted(self.root.iterdir()):
            if not shard.is_dir() or shard.is_symlink() or not _SHARD.fullmatch(shard.name):
                continue
            with contextlib.suppress(OSError):
                self._clean_staging(shard)
            entries.extend(e for e in sorted(shard.iterdir()) if self.is_entry_dir(e))
        return entries

    def clear(self) -> int:
        """Remove every entry (and stale staging folder); nothing the cache does not own."""
        if not self.root.exists():
            return 0
        if not self.root.is_dir():
            raise CacheError(f"{self.root} is not a folder, so not a trtforge engine cache",
                             hint=f"check --cache-dir / {CACHE_ENV}")
        try:
            owned = self.is_cache()
        except OSError as exc:
            raise CacheError(f"cannot read the engine cache {self.root}: {exc.strerror or exc}",
                             hint="check the folder's permissions") from None
        if not owned:
            raise CacheError(
                f"{self.root} is not a trtforge engine cache (no {MARKER_NAME} marker and no "
                f"entries); nothing removed",
                hint=f"check --cache-dir / {CACHE_ENV}: clear only removes what the cache wrote")
        with self._flock("cache.lock", exclusive=True):
            count = 0
            for entry in self._entry_dirs():
                try:
                    shutil.rmtree(entry)
                except OSError as exc:
                    raise CacheError(f"cannot remove the cache entry {entry}: {exc.strerror or exc}",
                                     hint="check the folder's permissions; removed "
                                     f"{count} entr{'y' if count == 1 else 'ies'} so far") from None
                count += 1
            for shard in self.root.iterdir():
                if shard.is_dir() and _SHARD.fullmatch(shard.name):
                    with contextlib.suppress(OSError):
                        shard.rmdir()  # only if empty
        return count
