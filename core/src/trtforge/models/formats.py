"""What a model format is (:class:`ModelFormat`) and how model files are fingerprinted.

Apart from :mod:`trtforge.models.sources` (detection, which asks the plugins for formats) so that
format providers -- core's own :mod:`trtforge.plugin.builtin` among them -- do not import the
plugin machinery that loads them.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class ModelFormat:
    """A kind of model: how to recognise it and how to fingerprint it.

    ``detect`` receives the user's object (a ``Path`` for anything path-like) and must be
    cheap. ``fingerprint`` returns a hex digest of everything that changes the model's output.
    ``text=True`` formats see plain strings before they are taken as paths (for names such
    as ``torchvision:resnet50``). A format with ``load`` is a way to *obtain* a model: the
    loaded object is detected again (a Python file that defines a torch module becomes a
    ``torch-module`` source), so routes only deal with the loaded kinds.
    """

    kind: str
    description: str
    detect: Callable[[Any], bool]
    fingerprint: Callable[[Any], str] | None = None
    priority: int = 100
    text: bool = False
    load: Callable[[Any], Any] | None = None


def hash_file(path: Path, digest: "hashlib._Hash | None" = None) -> str:
    digest = digest or hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_path(path: Path) -> str:
    """Hash a file's bytes, or a directory's relative file names and bytes."""
    if path.is_file():
        return hash_file(path)
    digest = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(item.relative_to(path)).encode())
        hash_file(item, digest)
    return digest.hexdigest()
