"""Hook implementations of the ``uff`` route; nothing heavy is imported here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trtforge.plugin.hookspecs import hookimpl

if TYPE_CHECKING:
    from trtforge.plugin.plugins import Registrar


@hookimpl
def register_backends(register: "Registrar") -> None:
    from trtforge_uff.backend import UffBackend

    register.backend(UffBackend())


def _is_uff_text(obj: object) -> bool:
    """A ``.pbtxt`` that is a UFF MetaGraph (not a TF text GraphDef): peek at its first lines."""
    from pathlib import Path

    if not (isinstance(obj, Path) and obj.suffix.lower() == ".pbtxt" and obj.is_file()):
        return False
    try:
        with open(obj, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return b"descriptor_core_version" in head or (
        head.lstrip().startswith(b"version:") and b"graphs {" in head
    )


@hookimpl
def register_model_formats(register: "Registrar") -> None:
    from trtforge.models.formats import ModelFormat, hash_path

    register.model_format(
        ModelFormat(
            "uff-text", "a UFF file in protobuf text form (.pbtxt)", _is_uff_text, hash_path, priority=50
        )
    )


@hookimpl
def register_commands(register: "Registrar") -> None:
    from trtforge_uff import cli

    register.command(
        "uff", "UFF files: inspect one, or write one from a TF model", configure=cli.configure, run=cli.run
    )


@hookimpl
def register_stage_kinds(register: "Registrar") -> None:
    """Saved programs with a host NMS stage load wherever this plugin is installed."""
    register.stage_kind("uff.nms", _load_nms_stage)


def _load_nms_stage(folder: Any, entry: Any) -> Any:
    from trtforge_uff import host_nms

    return host_nms.load(folder, entry)
