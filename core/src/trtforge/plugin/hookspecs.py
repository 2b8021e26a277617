"""The hook specification: every hook hands the plugin a ``register`` object.

A registrar (rather than return values) lets one hook implementation register any number of
things and lets core record which plugin registered what, for error messages and
``trtforge plugins``. It has one typed method per hook (:class:`trtforge.plugin.plugins.Registrar`)
and is also callable, ``register(item)``, as older plugins do. Core calls every hook through
pluggy, and refuses a plugin whose hook names are not below (a typo).
"""
from __future__ import annotations

from typing import Any, Callable

import pluggy

PROJECT = "trtforge"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_backends(register: Callable[[Any], None]) -> None:
    """Register conversion routes: ``register.backend(BackendSubclassInstance)``."""


@hookspec
def register_model_formats(register: Callable[[Any], None]) -> None:
    """Register model kinds that can be detected: ``register.model_format(ModelFormat(...))``."""


@hookspec
def register_converters(route: str, register: Callable[[Any], None]) -> None:
    """Add or override op converters of route ``route``: ``register.converter(...)``; what it
    takes is the route's."""


@hookspec
def register_stage_kinds(register: Callable[..., None]) -> None:
    """Add kinds of hybrid-program stages a saved program can hold:
    ``register.stage_kind(kind, load=fn(folder, manifest_entry) -> stage)``."""


@hookspec
def register_commands(register: Callable[..., None]) -> None:
    """Add CLI sub-commands: ``register.command(name, help, configure=fn(parser), run=fn(args) -> int)``."""
