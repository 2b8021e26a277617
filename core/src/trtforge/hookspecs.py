"""The hook specification: every hook hands the plugin a ``register`` callback.

A callback (rather than return values) lets one hook implementation register any number of
things and lets core record which plugin registered what, for error messages and
``trtforge plugins``.
"""
from __future__ import annotations

from typing import Any, Callable

import pluggy

PROJECT = "trtforge"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_backends(register: Callable[[Any], None]) -> None:
    """Register conversion routes: ``register(BackendSubclassInstance)``."""


@hookspec
def register_model_formats(register: Callable[[Any], None]) -> None:
    """Register model kinds that can be detected: ``register(ModelFormat(...))``."""


@hookspec
def register_converters(route: str, register: Callable[[Any], None]) -> None:
    """Add or override op converters of route ``route``; what ``register`` takes is the route's."""


@hookspec
def register_commands(register: Callable[..., None]) -> None:
    """Add CLI sub-commands: ``register(name, help, configure=fn(parser), run=fn(args) -> int)``."""
