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

from trtforge.plugin import hookspecs
from trtforge.errors import PluginError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "trtforge"
ALLOW_ENV = "TRTFORGE_LOAD_PLUGINS"
DENY_ENV = "TRTFORGE_DISABLE_PLUGINS"
BUILTIN = "trtforge.plugin.builtin"
CLI_PLUGIN = "trtforge.cli"  # core's commands (trtforge.cli.commands), registered by the CLI
CORE_PLUGINS = (BUILTIN, CLI_PLUGIN)


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


@dataclass(frozen=True)
class Command:
    """A CLI sub-command a plugin adds (``register.command(...)``)."""

    name: str
    help: str = ""
    configure: Callable[[Any], None] | None = None
    run: Callable[[Any], int] | None = None


# Which typed registrar method belongs to which hook.
_TYPED = {"backend": "register_backends", "model_format": "register_model_formats",
          "converter": "register_converters", "command": "register_commands",
          "stage_kind": "register_stage_kinds"}


@dataclass(frozen=True)
class StageKind:
    """A kind of program stage a plugin can load (``register.stage_kind(...)``)."""

    kind: str
    load: Callable[[Any, Any], Any]  # (program folder, the stage's manifest entry) -> stage


class Registrar:
    """The ``register`` a hook receives: typed methods (``register.backend(b)``,
    ``register.command(name, help, configure=, run=)``, ...) and, for older plugins, a plain
    call ``register(item)``. Records which plugin registered what, for messages."""

    def __init__(self, hook: str, plugin: str, items: list[Registered]) -> None:
        self._hook, self._plugin, self._items = hook, plugin, items

    def __call__(self, *args: Any, **kw: Any) -> None:
        if self._hook == "register_commands":
            self.command(*args, **kw)
        elif kw or len(args) != 1:
            self._items.append(Registered(self._plugin, (args, kw)))
        else:
            self._items.append(Registered(self._plugin, args[0]))

    def _add(self, method: str, item: Any) -> None:
        if _TYPED[method] != self._hook:
            raise PluginError(f"plugin {self._plugin!r} called register.{method}() inside "
                              f"{self._hook}", hint=f"register.{method}() belongs in {_TYPED[method]}")
        self._items.append(Registered(self._plugin, item))

    def backend(self, backend: Any) -> None:
        """Add a conversion route (a :class:`trtforge.Backend` instance; the route registry
        checks that it is one)."""
        self._add("backend", backend)

    def model_format(self, fmt: Any) -> None:
        """Add a detectable model kind (a :class:`trtforge.models.sources.ModelFormat`)."""
        self._add("model_format", fmt)

    def converter(self, converter: Any) -> None:
        """Add an op converter to the route the hook was called for (the route reads it)."""
        self._add("converter", converter)

    def stage_kind(self, kind: str, load: Callable[[Any, Any], Any]) -> None:
        """Add a hybrid-program stage kind: ``load(folder, manifest_entry)`` returns the stage."""
        self._add("stage_kind", StageKind(kind, load))

    def command(self, name: str, help: str = "", configure: Callable[[Any], None] | None = None,
                run: Callable[[Any], int] | None = None) -> None:
        """Add a CLI sub-command ``trtforge NAME``."""
        self._add("command", Command(name, help, configure, run))


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
    from trtforge.plugin import builtin

    manager.register(builtin, name=BUILTIN)
    return manager


def _unknown_hooks(pm: pluggy.PluginManager, plugin: Any) -> list[str]:
    """Hook implementations of ``plugin`` that match no hook spec (a misspelled name)."""
    unknown = []
    for caller in pm.get_hookcallers(plugin) or []:
        if caller.has_spec():
            continue
        if any(i.plugin is plugin and not i.optionalhook for i in caller.get_hookimpls()):
            unknown.append(caller.name)
    return sorted(unknown)


def _pending_error(pm: pluggy.PluginManager, name: str, plugin: Any) -> PluginError | None:
    """A PluginError naming the unknown hooks of ``plugin``, or None when it has none."""
    import difflib

    unknown = _unknown_hooks(pm, plugin)
    if not unknown:
        return None
    known = sorted(n for n in dir(hookspecs) if n.startswith("register_"))
    close = [m for u in unknown for m in difflib.get_close_matches(u, known, n=1)]
    return PluginError(
        f"plugin {name!r} implements {', '.join(repr(u) for u in unknown)}, which "
        f"{'is not a trtforge hook' if len(unknown) == 1 else 'are not trtforge hooks'}",
        hint=(f"did you mean {', '.join(repr(c) for c in close)}? " if close else "")
        + f"the hooks are {', '.join(known)}")


def check_pending() -> None:
    """pluggy's ``check_pending()``, as a PluginError that names the hook."""
    pm = manager()
    for name, plugin in pm.list_name_plugin():
        error = _pending_error(pm, name, plugin)
        if error is not None:
            raise error
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc), hint="check the hook's name against trtforge.plugin.hookspecs") from None


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
            pending = _pending_error(state.manager, ep.name, plugin)
            if pending is not None:
                state.manager.unregister(name=ep.name)
                raise pending
        except Exception as exc:  # a broken plugin must never break trtforge
            error = f"{type(exc).__name__}: {exc}"
            log.warning("plugin %s could not be loaded: %s", ep.name, error)
            state.broken.append(BrokenPlugin(ep.name, dist_info[0], dist_info[1], error))
            continue
        state.distributions[ep.name] = dist_info
    state.manager.check_pending()  # every plugin left has only known hooks


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
            pending = _pending_error(state.manager, registered, plugin)
            if pending is not None:
                raise pending
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


def _collect(hook_name: str, only: str | None = None, **kwargs: Any) -> list[Registered]:
    """Call one hook through pluggy, plugin by plugin, recording who registered what.

    Each plugin's implementation is called through ``pm.subset_hook_caller`` (all other
    plugins' plain implementations left out, wrappers kept), so hook wrappers, tracing and
    call monitoring see every call, and each call gets a registrar naming its plugin.
    """
    pm = manager()
    caller = getattr(pm.hook, hook_name)
    impls = [i for i in caller.get_hookimpls() if not (i.hookwrapper or i.wrapper)]  # registration order
    items: list[Registered] = []
    for impl in impls:
        if only is not None and impl.plugin_name != only:
            continue
        others = [other.plugin for other in impls if other.plugin is not impl.plugin]
        subset = pm.subset_hook_caller(hook_name, remove_plugins=others)
        subset(**kwargs, register=Registrar(hook_name, impl.plugin_name, items))
    return items


def collect_backends() -> list[Registered]:
    return _collect("register_backends")


def collect_model_formats() -> list[Registered]:
    return _collect("register_model_formats")


def collect_converters(route: str) -> list[Registered]:
    """Converters other plugins add to ``route`` (the route interprets what was registered)."""
    return _collect("register_converters", route=route)


def collect_stage_kinds() -> list[Registered]:
    """Program stage kinds plugins can load (``StageKind`` items)."""
    return _collect("register_stage_kinds")


def collect_commands(only: str | None = None) -> list[Registered]:
    """Every registered CLI command (``only``: those of the plugin of that name)."""
    return _collect("register_commands", only=only)


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
        if name in CORE_PLUGINS:
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
