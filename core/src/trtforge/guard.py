"""Guards against hostile input and leftovers: paths, files, JSON trees, stale work folders.

- ``refuse_output_over_sources``: an output that is (or is inside) a source is refused, so a
  conversion never replaces the model it reads.
- ``require_regular_file``: FIFOs, devices and sockets are refused before anyone opens them
  (a FIFO would block forever).
- ``check_json_tree``: depth/size/type limits for JSON read from files we did not write.
- ``work_dir`` / ``clean_stale_work_dirs``: ``trtforge-*`` folders in ``$TMPDIR`` carry their
  owner's pid; folders of dead processes (or very old ones) are removed at start-up.
- ``terminate_cleanly``: SIGTERM raises ``SystemExit`` so every ``finally`` still runs.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import stat
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

from trtforge.errors import TrtforgeError, UsageError

log = logging.getLogger(__name__)

WORK_PREFIX = "trtforge-"
STALE_SECONDS = 24 * 3600
_PID_NAME = re.compile(r"\.p(\d+)\.")
# Work folders of trtforge before they carried a pid: "trtforge-<route>-" and mkdtemp's
# 8-character random suffix; never the zoo's folders, which are results handed to the caller.
_LEGACY_WORK = re.compile(r"trtforge-(?!zoo-)[A-Za-z0-9_]+-[A-Za-z0-9_]{8}")


def _resolved(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(Path(path).expanduser()))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def refuse_output_over_sources(output: str | os.PathLike[str], sources: Iterable[Any],
                               what: str = "output") -> None:
    """Raise UsageError if ``output`` is a source, the same file as one, or inside one."""
    out = _resolved(output)
    real_out = Path(os.path.realpath(out))
    for source in sources:
        if source is None or not isinstance(source, (str, os.PathLike)):
            continue
        text = str(source)
        if not text or text.startswith("torchvision:"):
            continue
        src_path = _resolved(re.sub(r"(\.py):[A-Za-z_][\w.]*$", r"\1", text))
        if not os.path.lexists(src_path):
            continue  # nothing there to lose (e.g. the source of a cached engine, moved since)
        real_src = Path(os.path.realpath(src_path))
        inside = real_out == real_src or real_src in real_out.parents or out == src_path
        if inside or _same_file(out, src_path):
            raise UsageError(
                f"{what} {out} would overwrite the source {src_path}",
                hint="write the engine somewhere else, e.g. -o model.engine")


def require_regular_file(path: Path, what: str, error: type[TrtforgeError]) -> None:
    """Refuse anything that is not a plain file (FIFO, device, socket) without opening it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error(f"{what} not found: {path}",
                    hint=f"check the path; relative paths start from {Path.cwd()}") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}",
                    hint="check the file's permissions") from None
    if stat.S_ISDIR(mode):
        raise error(f"{what} {path} is a directory", hint="give a file")
    if not stat.S_ISREG(mode):
        raise error(f"{what} {path} is not a regular file (a FIFO, device or socket)",
                    hint="give a plain file")


def read_limited(path: Path, limit: int, what: str, error: type[TrtforgeError]) -> bytes:
    """A regular file's bytes, refusing files larger than ``limit`` and unreadable ones."""
    require_regular_file(path, what, error)
    size = path.stat().st_size
    if size > limit:
        raise error(f"{what} {path} is {size:,} bytes, more than the {limit:,} allowed",
                    hint="this is not a file trtforge wrote; rebuild it")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}",
                    hint="check the file's permissions") from None


def json_depth_ok(value: Any, limit: int) -> bool:
    """True if ``value`` nests dicts/lists at most ``limit`` deep (iterative, no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > limit:
                return False
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            if depth > limit:
                return False
            stack.extend((v, depth + 1) for v in item)
    return True


# --- work folders -----------------------------------------------------------------------
def work_dir(tag: str) -> Path:
    """A fresh folder ``$TMPDIR/trtforge-<tag>.p<pid>.<random suffix>`` (the pid lets a later run
    clean it up once this process is gone)."""
    return Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{tag}.p{os.getpid()}."))


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(path: Path, now: float | None = None) -> bool:
    """A leftover of a dead process (pid in its name), or older than a day."""
    match = _PID_NAME.search(path.name)
    if match and int(match.group(1)) != os.getpid():
        return not pid_alive(int(match.group(1)))
    if match:
        return False
    try:
        age = (now or time.time()) - path.stat().st_mtime
    except OSError:
        return False
    return age > STALE_SECONDS


def clean_stale_work_dirs(root: str | os.PathLike[str] | None = None) -> int:
    """Remove ``trtforge-*`` folders of dead processes from ``root`` (default ``$TMPDIR``)."""
    base = Path(root) if root is not None else Path(tempfile.gettempdir())
    removed = 0
    try:
        candidates = [p for p in base.iterdir() if p.name.startswith(WORK_PREFIX)]
    except OSError:
        return 0
    for path in candidates:
        try:
            ours = bool(_PID_NAME.search(path.name)) or bool(_LEGACY_WORK.fullmatch(path.name))
            if ours and path.is_dir() and not path.is_symlink() and path.stat().st_uid == os.getuid() \
                    and is_stale(path):
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    if removed:
        log.info("removed %d stale trtforge work folder(s) from %s", removed, base)
    return removed


def terminate_cleanly() -> Any:
    """Turn SIGTERM into SystemExit(143) so ``finally`` blocks remove work and staging folders.

    Returns the previous handler (for ``restore_sigterm``), or None where none was installed.
    """

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    try:
        return signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):  # not the main thread
        return None


def restore_sigterm(previous: Any) -> None:
    if previous is not None:
        try:
            signal.signal(signal.SIGTERM, previous)
        except (ValueError, OSError):
            pass


def check_output_file(path: str | os.PathLike[str], what: str = "output") -> Path:
    """Refuse an empty output name, a directory, or a folder that cannot be written."""
    text = os.fspath(path)
    if not str(text).strip():
        raise UsageError(f"{what} path is empty", hint="give a file name, e.g. -o model.engine")
    out = Path(text).expanduser()
    if out.is_dir():
        raise UsageError(f"{what} {out} is a directory", hint="give a file name, e.g. model.engine")
    parent = out.parent if str(out.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise UsageError(f"{what} folder {parent} is not a directory", hint="give another path")
    if parent.is_dir() and not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{what} folder {parent} is not writable",
                         hint="choose a folder you can write to")
    return out


def load_arrays(path: str | os.PathLike[str], what: str, hint: str | None = None) -> Any:
    """An .npz (dict name -> array) or .npy (one array) file, never unpickling objects."""
    import zipfile

    import numpy as np

    file = Path(path).expanduser()
    require_regular_file(file, f"{what} file", UsageError)
    try:
        loaded = np.load(file, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                return {name: loaded[name] for name in loaded.files}
        return loaded
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "pickle" in str(exc).lower():
            raise UsageError(f"{what} file {file} holds pickled Python objects, which trtforge "
                             f"does not load", hint="save plain numeric arrays (numpy.savez)") from None
        raise UsageError(f"{what} file {file} is not a numpy .npy/.npz file ({exc})",
                         hint=hint or "write it with numpy.save / numpy.savez") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise UsageError(f"cannot read {what} file {file}: {exc}",
                         hint=hint or "write it with numpy.save / numpy.savez") from None
