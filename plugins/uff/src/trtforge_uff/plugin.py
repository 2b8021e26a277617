"""Hook implementations of the ``uff`` route; nothing heavy is imported here."""
from __future__ import annotations

from typing import TYPE_CHECKING

from trtforge.hookspecs import hookimpl

if TYPE_CHECKING:
    from trtforge.plugins import Registrar
