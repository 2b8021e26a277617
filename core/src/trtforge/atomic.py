"""Write files so that a reader never sees half of one: temp file in the same folder + rename.

Files get the permissions an ordinary ``open()`` would give them (``0666 & ~umask``), not
mkstemp's private 0600, so Triton or trtexec running as another user can read engines.
``atomic_write_unit`` writes several files as one unit: all of them, or none.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def file_mode() -> int:
    return 0o666 & ~current_umask()


def dir_mode() -> int:
    return 0o777 & ~current_umask()


def _write_temp(target: Path, data: bytes) -> str:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, file_mode())
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(path: str | os.PathLike[str]) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_temp(target, data)
    try:
        os.replace(tmp, target)
    except BaseException:
        _unlink(tmp)
        raise
    return target


def atomic_write_unit(files: Mapping[str | os.PathLike[str], bytes]) -> list[Path]:
    """Write every file of ``files`` (path -> bytes), or none of them.

    All contents go to temp files first; only then are they renamed into place. If a rename
    fails, the files already renamed by this call are removed again (a plan is never left
    without its sidecar).
    """
    targets = [Path(p) for p in files]
    temps: list[tuple[str, Path]] = []
    placed: list[Path] = []
    try:
        for target, data in zip(targets, files.values()):
            target.parent.mkdir(parents=True, exist_ok=True)
            temps.append((_write_temp(target, data), target))
        for tmp, target in temps:
            os.replace(tmp, target)
            placed.append(target)
    except BaseException:
        for tmp, _ in temps:
            _unlink(tmp)
        for target in placed:
            _unlink(target)
        raise
    return targets


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> Path:
    return atomic_write_bytes(path, json_bytes(data))


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str], exclusive: bool = True) -> Iterator[None]:
    """An advisory lock on ``path`` (created if missing) across processes; shared when
    ``exclusive`` is False. A no-op where ``fcntl`` does not exist (Windows)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
