"""Hook implementations of the ``torch2trt`` route; nothing heavy is imported here."""
from __future__ import annotations

from typing import TYPE_CHECKING

from trtforge.plugin.hookspecs import hookimpl

if TYPE_CHECKING:
    from trtforge.plugin.plugins import Registrar


@hookimpl
def register_backends(register: "Registrar") -> None:
    from trtforge_torch2trt.backend import Torch2TrtBackend

    register.backend(Torch2TrtBackend())
