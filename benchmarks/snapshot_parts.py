"""Split a snapshot's weights into pieces small enough to carry (and join them back).

A device call carries at most 64 MiB, a ResNet50 fp32 snapshot's ``.npz`` is ~100 MB. Split it
here into ``X.snapshot.npz.part000``, ``.part001``, ... (default at most 60 MiB each), carry the
pieces in several calls, and on the GPU machine ``trtforge build X.snapshot.json`` reads the
pieces directly (``Snapshot.load`` joins them when ``X.snapshot.npz`` itself is absent).

    python benchmarks/snapshot_parts.py split model.engine.snapshot.npz [--max-mib 60] [--remove]
    python benchmarks/snapshot_parts.py join model.engine.snapshot.npz
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

PART_SUFFIX = ".part"  # the same as trtforge.snapshot.PART_SUFFIX


def split(path: Path, max_bytes: int, remove: bool = False) -> list[Path]:
    """Write ``path.part000``... of at most ``max_bytes`` each; returns them in order."""
    if max_bytes < 1:
        raise SystemExit("--max-mib must be positive")
    for old in path.parent.glob(path.name + PART_SUFFIX + "[0-9][0-9][0-9]"):
        old.unlink()  # stale pieces of an earlier split would be joined in too
    parts = []
    with open(path, "rb") as handle:
        for index in range(1000):
            chunk = handle.read(max_bytes)
            if not chunk:
                break
            part = path.with_name(f"{path.name}{PART_SUFFIX}{index:03d}")
            tmp = part.with_name(part.name + ".tmp")
            tmp.write_bytes(chunk)
            tmp.replace(part)
            parts.append(part)
        else:
            raise SystemExit(f"{path} needs more than 1000 parts; raise --max-mib")
    if remove:
        path.unlink()
    return parts


def join(path: Path) -> Path:
    """Write ``path`` from its pieces (atomically) and return it."""
    parts = sorted(path.parent.glob(path.name + PART_SUFFIX + "[0-9][0-9][0-9]"))
    if not parts:
        raise SystemExit(f"no pieces {path.name}{PART_SUFFIX}NNN beside {path}")
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        for part in parts:
            out.write(part.read_bytes())
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["split", "join"])
    parser.add_argument("path", type=Path, help="the .npz file (for join: the file to recreate)")
    parser.add_argument("--max-mib", type=float, default=60.0, help="largest piece in MiB (default 60)")
    parser.add_argument("--remove", action="store_true", help="split: delete the original afterwards")
    args = parser.parse_args(argv)
    if args.action == "split":
        digest = hashlib.sha256(args.path.read_bytes()).hexdigest()
        parts = split(args.path, int(args.max_mib * (1 << 20)), args.remove)
        for part in parts:
            print(f"{part} {part.stat().st_size}")
        print(f"sha256 {digest}")
    else:
        path = join(args.path)
        print(f"{path} {path.stat().st_size} sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
