"""Plugin loading (entry points, allow/deny lists, in-process registration) and registries.

Entry points in the group ``trtforge`` are loaded on first use. ``TRTFORGE_LOAD_PLUGINS``
(comma-separated entry-point names, empty for none) is an allow-list and
``TRTFORGE_DISABLE_PLUGINS`` a deny-list. A plugin that fails to import is recorded as
broken and never breaks the caller. ``register(obj)`` adds a module or object in process.
"""
from __future__ import annotations

import importlib.metadata
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import pluggy

from trtforge import hookspecs
from trtforge.errors import PluginError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "trtforge"
ALLOW_ENV = "TRTFORGE_LOAD_PLUGINS"
DENY_ENV = "TRTFORGE_DISABLE_PLUGINS"
BUILTIN = "trtforge.builtin"


@dataclass(frozen=True)
class BrokenPlugin:
    name: str
    distribution: str | None
    version: str | None
    error: str


@dataclass(frozen=True)
class Registered:
    """Something a plugin registered, with the plugin's name for messages."""

    plugin: str
    item: Any


@dataclass
class _State:
    manager: pluggy.PluginManager
    loaded: bool = False
    broken: list[BrokenPlugin] = field(default_factory=list)
    distributions: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    generation: int = 0


_lock = threading.RLock()
_state: _State | None = None


def _new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    from trtforge import builtin

    manager.register(builtin, name=BUILTIN)
    return manager


def _env_list(name: str) -> set[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _load_entry_points(state: _State) -> None:
    allow = _env_list(ALLOW_ENV)
    deny = _env_list(DENY_ENV) or set()
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if (allow is not None and ep.name not in allow) or ep.name in deny:
            log.debug("plugin %s skipped by %s/%s", ep.name, ALLOW_ENV, DENY_ENV)
            continue
        if state.manager.has_plugin(ep.name):
            continue
        dist = getattr(ep, "dist", None)
        dist_info = (dist.name, dist.version) if dist is not None else (None, None)
        try:
            plugin = ep.load()
            state.manager.register(plugin, name=ep.name)
        except Exception as exc:  # a broken plugin must never break trtforge
            error = f"{type(exc).__name__}: {exc}"
            log.warning("plugin %s could not be loaded: %s", ep.name, error)
            state.broken.append(BrokenPlugin(ep.name, dist_info[0], dist_info[1], error))
            continue
        state.distributions[ep.name] = dist_info


def _get_state() -> _State:
    global _state
    with _lock:
        if _state is None:
            _state = _State(_new_manager())
        if not _state.loaded:
            _state.loaded = True
            _load_entry_points(_state)
        return _state


def manager() -> pluggy.PluginManager:
    """The pluggy manager with built-in and entry-point plugins loaded."""
    return _get_state().manager


def register(plugin: Any, name: str | None = None) -> str:
    """Register a plugin module or object in this process (notebooks, tests).

    Returns the name it was registered under; registering something that registers a backend
    name already taken raises :class:`PluginError` and leaves the plugin unregistered.
    """
    state = _get_state()
    with _lock:
        try:
            registered = state.manager.register(plugin, name=name)
        except ValueError as exc:
            raise PluginError(f"plugin {name or plugin!r} is already registered: {exc}") from None
        if registered is None:
            raise PluginError(f"plugin {name or plugin!r} is blocked and was not registered")
        state.generation += 1
        try:
            _check_duplicates()
        except PluginError:
            state.manager.unregister(name=registered)
            state.generation += 1
            raise
        return registered


def unregister(name: str) -> None:
    state = _get_state()
    with _lock:
        if state.manager.get_plugin(name) is None:
            raise PluginError(f"no plugin named {name!r} is registered")
        state.manager.unregister(name=name)
        state.generation += 1


def reset() -> None:
    """Forget every plugin and reload entry points on next use (for tests)."""
    global _state
    with _lock:
        _state = None


def generation() -> int:
    """Changes whenever plugins change, so registries know to rebuild."""
    return _get_state().generation


def broken_plugins() -> list[BrokenPlugin]:
    return list(_get_state().broken)


def _collect(hook_name: str, **kwargs: Any) -> list[Registered]:
    """Call one hook plugin by plugin, recording who registered what."""
    hook = getattr(manager().hook, hook_name)
    items: list[Registered] = []
    for impl in hook.get_hookimpls():  # registration order
        plugin_name = impl.plugin_name

        def add(*args: Any, _plugin: str = plugin_name, **kw: Any) -> None:
            if kw or len(args) != 1:
                items.append(Registered(_plugin, (args, kw)))
            else:
                items.append(Registered(_plugin, args[0]))

        call_args = {name: kwargs[name] for name in impl.argnames if name in kwargs}
        if "register" in impl.argnames:
            call_args["register"] = add
        impl.function(**call_args)
    return items


def collect_backends() -> list[Registered]:
    return _collect("register_backends")


def collect_model_formats() -> list[Registered]:
    return _collect("register_model_formats")


def collect_converters(route: str) -> list[Registered]:
    """Converters other plugins add to ``route`` (the route interprets what was registered)."""
    return _collect("register_converters", route=route)


def collect_commands() -> list[Registered]:
    return _collect("register_commands")


def _check_duplicates() -> None:
    seen: dict[str, str] = {}
    for entry in collect_backends():
        name = getattr(entry.item, "name", None)
        if name in seen:
            raise PluginError(
                f"backend name {name!r} is registered twice: by plugin {seen[name]!r} and by "
                f"plugin {entry.plugin!r}",
                hint=f"disable one of them with {DENY_ENV}=<plugin>",
            )
        seen[str(name)] = entry.plugin


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    broken: str | None = None


def plugin_infos() -> list[PluginInfo]:
    state = _get_state()
    infos = []
    for name, plugin in state.manager.list_name_plugin():
        if name == BUILTIN:
            dist, version = "trtforge", _core_version()
        else:
            dist, version = state.distributions.get(name, (None, getattr(plugin, "__version__", None)))
        hooks = tuple(sorted(h.name for h in state.manager.get_hookcallers(plugin) or []))
        infos.append(PluginInfo(name, dist, version, hooks))
    for broken in state.broken:
        infos.append(PluginInfo(broken.name, broken.distribution, broken.version, (), broken.error))
    return infos


def _core_version() -> str:
    from trtforge import __version__

    return __version__


def iter_names(items: Iterable[Registered]) -> list[str]:
    return [str(getattr(r.item, "name", r.item)) for r in items]


CommandRunner = Callable[[Any], int]
