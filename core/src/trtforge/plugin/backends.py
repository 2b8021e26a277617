"""The ``Backend`` contract every route implements, and the registry that finds them.

A route's only job is "model in, network filled": ``populate`` receives an empty TensorRT
network and fills it. Building, caching, engine files and checks are done once, in core.
"""
from __future__ import annotations

import abc
import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from trtforge.plugin import plugins
from trtforge.errors import BackendNotFoundError, BackendUnavailableError, PluginError, UsageError

if TYPE_CHECKING:
    from trtforge.program.route import PartialGraph
    from trtforge.plugin.context import ConversionContext
    from trtforge.models.sources import ModelSource
    from trtforge.conversion.specs import BuildSpec


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


def requires_modules(*modules: str) -> Availability:
    """Available if every module can be found (without importing it: that would be slow)."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        return Availability(False, f"{', '.join(missing)} not installed")
    return Availability(True)


class Backend(abc.ABC):
    """Base class of conversion routes.

    ``priority`` orders routes for ``backend="auto"`` (lower first). ``accepts`` must be cheap
    and must not import heavy frameworks unless the model already comes from them.
    """

    name: ClassVar[str] = ""
    priority: ClassVar[int] = 500
    description: ClassVar[str] = ""

    def is_available(self) -> Availability:
        return Availability(True)

    @abc.abstractmethod
    def accepts(self, source: "ModelSource") -> bool:
        """True if this route can convert ``source`` (cheap: no heavy imports)."""

    @abc.abstractmethod
    def populate(
        self, network: Any, source: "ModelSource", spec: "BuildSpec", ctx: "ConversionContext"
    ) -> None:
        """Fill ``network`` (empty, created by core) from ``source``; raise ConversionError."""

    def validate_options(self, options: Mapping[str, Any]) -> None:
        """Refuse ``convert(..., options=...)`` entries this route does not know or whose value
        is wrong (a :class:`UsageError` naming them), before anything is built. A route that
        takes options overrides this with its own schema; by default it takes none."""
        if options:
            raise UsageError(f"route {self.name} takes no options, got {', '.join(sorted(options))}",
                             hint="leave options out for this route")

    def passes(self) -> list[tuple[str, str]]:
        """The route's graph preparation passes, in order, as ``(name, what it does)``."""
        return []

    def partial_graph(self, source: "ModelSource", spec: "BuildSpec", ctx: "ConversionContext"
                      ) -> "PartialGraph | None":
        """The model as a graph core can partition (per-node capability, segment builders),
        for hybrid programs; None: this route converts whole models only."""
        return None

    @property
    def can_fall_back(self) -> bool:
        return type(self).partial_graph is not Backend.partial_graph

    def __repr__(self) -> str:
        return f"<backend {self.name}>"


@dataclass(frozen=True)
class BackendEntry:
    backend: Backend
    plugin: str

    @property
    def name(self) -> str:
        return self.backend.name


class BackendRegistry:
    """Every registered backend, in auto order, with lookups that name the alternatives."""

    def __init__(self, entries: list[BackendEntry]) -> None:
        self._entries: dict[str, BackendEntry] = {}
        for entry in entries:
            self.add(entry)

    def add(self, entry: BackendEntry) -> None:
        if not entry.name:
            raise PluginError(f"plugin {entry.plugin!r} registered a backend without a name")
        if entry.name in self._entries:
            other = self._entries[entry.name].plugin
            raise PluginError(
                f"backend name {entry.name!r} is registered twice: by plugin {other!r} and by "
                f"plugin {entry.plugin!r}",
                hint=f"disable one of them with {plugins.DENY_ENV}=<plugin>",
            )
        self._entries[entry.name] = entry

    def names(self) -> list[str]:
        return [e.name for e in self.entries()]

    def entries(self) -> list[BackendEntry]:
        return sorted(self._entries.values(), key=lambda e: (e.backend.priority, e.name))

    def get(self, name: str) -> BackendEntry:
        try:
            return self._entries[name]
        except KeyError:
            available = ", ".join(self.names()) or "none (install a trtforge route plugin)"
            raise BackendNotFoundError(
                f"unknown backend {name!r}", hint=f"available backends: {available}"
            ) from None

    def require_available(self, name: str) -> Backend:
        backend = self.get(name).backend
        availability = backend.is_available()
        if not availability:
            raise BackendUnavailableError(
                f"backend {name!r} is not available: {availability.reason}",
                hint=f"install what it needs, e.g. pip install 'trtforge-{name.replace('_', '-')}'",
            )
        return backend

    def candidates(self, source: "ModelSource") -> tuple[list[Backend], dict[str, str]]:
        """Backends that can take ``source`` in auto order, and why the others cannot."""
        chosen, skipped = [], {}
        for entry in self.entries():
            availability = entry.backend.is_available()
            if not availability:
                skipped[entry.name] = f"unavailable: {availability.reason}"
            elif not entry.backend.accepts(source):
                skipped[entry.name] = f"does not accept {source.kind}"
            else:
                chosen.append(entry.backend)
        return chosen, skipped


_cache: tuple[int, BackendRegistry] | None = None


def registry() -> BackendRegistry:
    """The registry of the currently loaded plugins (rebuilt when plugins change)."""
    global _cache
    generation = plugins.generation()
    if _cache is None or _cache[0] != generation:
        entries = []
        for registered in plugins.collect_backends():
            backend = registered.item
            if isinstance(backend, type):
                backend = backend()
            if not isinstance(backend, Backend):
                raise PluginError(
                    f"plugin {registered.plugin!r} registered {backend!r}, which is not a "
                    f"trtforge.Backend"
                )
            entries.append(BackendEntry(backend, registered.plugin))
        _cache = (generation, BackendRegistry(entries))
    return _cache[1]
