"""Read and write UFF files: the binary ``.uff`` and the ``.pbtxt`` text form.

Files we write are deterministic (map entries sorted), so a file read and written again is
the same bytes; files from other writers round-trip semantically (same message).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from google.protobuf import message as pb_message
from google.protobuf import text_format

from trtforge.errors import ModelSourceError

from trtforge_uff.format import schema

TEXT_SUFFIXES = (".pbtxt", ".txt")


class UffFormatError(ModelSourceError):
    """A UFF file cannot be parsed, or its contents break the format (see ``problems``)."""

    def __init__(self, message: str, *, hint: str | None = None, problems: list[str] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = list(problems or [])


def to_bytes(meta: Any) -> bytes:
    return meta.SerializeToString(deterministic=True)


def to_text(meta: Any) -> str:
    return text_format.MessageToString(meta)


def from_bytes(data: bytes, origin: str = "<bytes>") -> Any:
    meta = schema.MetaGraph()
    try:
        meta.ParseFromString(data)
    except pb_message.DecodeError as exc:
        raise UffFormatError(f"{origin} is not a UFF file: protobuf cannot decode it ({exc})",
                             hint="give a .uff written by NVIDIA's uff converter or trtforge, or "
                             "its .pbtxt text form") from None
    if not meta.graphs and data:
        raise UffFormatError(f"{origin} decodes but holds no UFF graph (no MetaGraph.graphs)",
                             hint="is this a UFF file? a TF GraphDef (.pb) needs backend='uff' "
                             "with the TF -> UFF converter")
    return meta


def from_text(text: str, origin: str = "<text>") -> Any:
    meta = schema.MetaGraph()
    try:
        text_format.Parse(text, meta)
    except text_format.ParseError as exc:
        raise UffFormatError(f"{origin} is not UFF text: {exc}",
                             hint="the .pbtxt must be a uff.MetaGraph in protobuf text format") from None
    return meta


def read(path: str | Path) -> Any:
    """The ``uff.MetaGraph`` in ``path`` (text form if the suffix says so)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UffFormatError(f"cannot read UFF file {path}: {exc.strerror}",
                             hint="check the path and its permissions") from None
    if path.suffix.lower() in TEXT_SUFFIXES:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UffFormatError(f"{path} is named like UFF text but is not UTF-8",
                                 hint="binary UFF files end in .uff") from None
        return from_text(text, str(path))
    return from_bytes(data, str(path))


def write(meta: Any, path: str | Path, *, text: bool | None = None) -> Path:
    """Write ``meta`` atomically; ``text`` defaults from the suffix (``.pbtxt`` is text)."""
    from trtforge.atomic import atomic_write_bytes

    path = Path(path)
    as_text = path.suffix.lower() in TEXT_SUFFIXES if text is None else text
    data = to_text(meta).encode() if as_text else to_bytes(meta)
    return atomic_write_bytes(path, data)
