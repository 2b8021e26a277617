"""Hook implementations of the ``torch2trt`` route; nothing heavy is imported here."""
from __future__ import annotations

from typing import Any, Callable

from trtforge.hookspecs import hookimpl


@hookimpl
def register_backends(register: Callable[[Any], None]) -> None:
    from trtforge_torch2trt.backend import Torch2TrtBackend

    register(Torch2TrtBackend())
