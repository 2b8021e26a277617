"""Hook implementations of the ``tf_trt`` route; nothing heavy is imported here."""
from __future__ import annotations

from typing import TYPE_CHECKING

from trtforge.plugin.hookspecs import hookimpl

if TYPE_CHECKING:
    from trtforge.plugin.plugins import Registrar


@hookimpl
def register_backends(register: "Registrar") -> None:
    from trtforge_tf_trt.backend import TfTrtBackend

    register.backend(TfTrtBackend())
