"""Hook implementations of the ``uff`` route; nothing heavy is imported here."""
from __future__ import annotations

from typing import TYPE_CHECKING

from trtforge.hookspecs import hookimpl

if TYPE_CHECKING:
    from trtforge.plugins import Registrar


@hookimpl
def register_backends(register: "Registrar") -> None:
    from trtforge_uff.backend import UffBackend

    register.backend(UffBackend())
