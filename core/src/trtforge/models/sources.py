"""Model sources: what kind of model the user handed us, and a content fingerprint of it.

Detection is cheap and never imports a framework the model does not already come from (an
in-memory ``torch.nn.Module`` means torch is imported already). Plugins add kinds through
the ``register_model_formats`` hook; core's own kinds are registered the same way.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trtforge.plugin import plugins
from trtforge.errors import ModelSourceError, PluginError
from trtforge.models.formats import ModelFormat, hash_file, hash_path  # noqa: F401  (public here too)

PathLike = (str, os.PathLike)


@dataclass
class ModelSource:
    """A detected model: its kind, the object or path, and its content fingerprint."""

    kind: str
    model: Any
    fingerprint: str
    name: str
    path: Path | None = None
    example_inputs: tuple[Any, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "fingerprint": self.fingerprint,
            "path": str(self.path) if self.path else None,
        }


_formats_cache: tuple[int, list[plugins.Registered]] | None = None


def model_formats() -> list[plugins.Registered]:
    """Registered formats, highest priority (lowest number) first."""
    global _formats_cache
    generation = plugins.generation()
    if _formats_cache is None or _formats_cache[0] != generation:
        formats = plugins.collect_model_formats()
        seen: dict[str, str] = {}
        for entry in formats:
            if not isinstance(entry.item, ModelFormat):
                raise PluginError(f"plugin {entry.plugin!r} registered {entry.item!r}, not a ModelFormat")
            if entry.item.kind in seen and seen[entry.item.kind] != entry.plugin:
                raise PluginError(
                    f"model kind {entry.item.kind!r} is registered twice: by {seen[entry.item.kind]!r} "
                    f"and by {entry.plugin!r}"
                )
            seen[entry.item.kind] = entry.plugin
        formats.sort(key=lambda r: r.item.priority)
        _formats_cache = (generation, formats)
    return _formats_cache[1]


def _finish(fmt: ModelFormat, subject: Any, path: Path | None,
            example_inputs: tuple[Any, ...] | None, name: str) -> ModelSource:
    if fmt.load is not None:
        try:
            made = fmt.load(subject)
        except SystemExit as exc:
            raise ModelSourceError(
                f"loading {path or subject} called sys.exit({exc.code!r})",
                hint="the model file must define the model, not run a script; guard it with "
                "if __name__ == '__main__':") from None
        loaded = detect(made, example_inputs)
        loaded.name = path.name if path is not None else str(subject)
        loaded.path = path
        loaded.extra["loaded_from"] = {"kind": fmt.kind, "value": str(subject)}
        return loaded
    if fmt.fingerprint is None:
        raise PluginError(f"model format {fmt.kind!r} has neither fingerprint nor load")
    return ModelSource(
        kind=fmt.kind,
        model=subject,
        fingerprint=fmt.fingerprint(subject),
        name=name,
        path=path,
        example_inputs=example_inputs,
    )


def detect(model: Any, example_inputs: tuple[Any, ...] | None = None) -> ModelSource:
    """Turn whatever the user passed into a :class:`ModelSource`, or explain why not."""
    if isinstance(model, ModelSource):
        return model
    subject: Any = model
    path: Path | None = None
    if isinstance(model, str):
        for entry in model_formats():
            fmt = entry.item
            if fmt.text and fmt.detect(model):
                return _finish(fmt, model, None, example_inputs, type(model).__name__)
    if isinstance(model, PathLike):
        path = Path(model).expanduser()
        if not path.exists():
            raise ModelSourceError(
                f"model file not found: {path}", hint="check the path; relative paths start "
                f"from {Path.cwd()}"
            )
        if not path.is_dir():
            from trtforge.guard import require_regular_file

            require_regular_file(path, "model file", ModelSourceError)  # a FIFO would block
        subject = path
    for entry in model_formats():
        fmt: ModelFormat = entry.item
        if not fmt.text and fmt.detect(subject):
            name = path.name if path is not None else type(model).__name__
            return _finish(fmt, subject, path, example_inputs, name)
    kinds = ", ".join(f"{e.item.kind} ({e.item.description})" for e in model_formats())
    if path is not None:
        what = "directory" if path.is_dir() else "file"
        raise ModelSourceError(
            f"cannot tell what kind of model the {what} {path} is",
            hint=f"known kinds: {kinds}",
        )
    raise ModelSourceError(
        f"cannot convert an object of type {type(model).__module__}.{type(model).__qualname__}",
        hint=f"known kinds: {kinds}",
    )
