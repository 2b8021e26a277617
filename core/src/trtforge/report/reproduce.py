"""``reproduce.sh``: the exact trtforge commands, versions and GPU behind an output folder.

Model Navigator writes a reproducer next to what it produced; so does trtforge, so that a
folder handed to someone else (a Triton repository, an optimize result) says which trtforge,
which TensorRT flavor and version, and which GPU (or which ahead-of-time target) made it, and
runs the same commands again.
"""
from __future__ import annotations

import datetime as _dt
import os
import shlex
from typing import Any, Mapping, Sequence

from trtforge import __version__

SCRIPT_NAME = "reproduce.sh"


def quote(argv: Sequence[str]) -> str:
    """One shell line; ``$NAME`` placeholders (see :func:`script`) stay expandable."""
    words = []
    for word in argv:
        if word.startswith("${") and word.endswith("}") and "\n" not in word:
            words.append(f'"{word}"')
        else:
            words.append(shlex.quote(word))
    return " ".join(words)


def gpu_line(target: str | None) -> str:
    """This machine's GPU, or that there is none and what the plan was built for."""
    from trtforge.tensorrt.gpu import probe_gpus

    gpus = probe_gpus()
    if gpus.found:
        return ", ".join(f"{g.name} ({g.sm})" for g in gpus.gpus)
    return f"no GPU: built ahead of time for {target or 'an unnamed target'}"


def tensorrt_line(metadata: Mapping[str, Any]) -> str:
    built = metadata.get("tensorrt") or {}
    text = f"{built.get('flavor', '?')} {built.get('version', '?')}"
    from trtforge.tensorrt.trt import tensorrt_identity

    here = tensorrt_identity()
    if here is not None and (here["flavor"], here["version"]) != (built.get("flavor"), built.get("version")):
        text += f" (this machine has {here['flavor']} {here['version']})"
    return text


def script(commands: Sequence[Sequence[str]], metadata: Mapping[str, Any], *,
           placeholders: Mapping[str, str] | None = None, notes: Sequence[str] = ()) -> str:
    """The text of ``reproduce.sh``.

    ``commands``: trtforge argument lists (without ``trtforge``). ``metadata``: the sidecar
    of the engine the folder holds. ``placeholders``: ``NAME -> why``, for arguments that were
    Python objects rather than files (the script stops with the reason unless ``NAME`` is set).
    """
    target = metadata.get("target")
    lines = [
        "#!/bin/sh",
        "# Reproduce this folder: the trtforge commands that wrote it, and what they ran on.",
        f"#   trtforge:  {__version__}",
        f"#   TensorRT:  {tensorrt_line(metadata)} built the plan; a plan loads only in the exact",
        "#              TensorRT flavor and version that built it (Triton's tensorrt_plan backend",
        "#              included): rebuild where the flavor or version differs",
        f"#   engine:    route {metadata.get('route')}, precision {metadata.get('precision')}, "
        f"target {target or 'the GPU it was built on'}",
        f"#   GPU:       {gpu_line(target)}",
        f"#   written:   {_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')} "
        f"in {os.getcwd()}",
    ]
    lines += [f"# {note}" for note in notes]
    lines += ["set -eu", f'if [ "$(trtforge --version)" != "trtforge {__version__}" ]; then',
              f'  echo "warning: written by trtforge {__version__}, running $(trtforge --version)" >&2',
              "fi"]
    for name, why in (placeholders or {}).items():
        safe = "".join(c for c in why if c not in '}"$`\\\n')
        lines.append(f'{name}="${{{name}:?{safe}}}"')
    lines += [f"trtforge {quote(argv)}" for argv in commands]
    return "\n".join(lines) + "\n"
