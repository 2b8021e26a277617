"""Which function converts which UFF op; other plugins add or override through the hook.

A converter is ``fn(ctx, node, inputs) -> value | list[value]`` decorated with
:func:`converter`; values are TensorRT ``ITensor`` objects or numpy arrays (constants, kept
in numpy so shape-like inputs -- Reshape's shape, Transpose's perm -- stay readable). The
decorator only records a :class:`ConverterSupport` on the function; nothing is global.
Other plugins register through ``register_converters(route="uff", register)``: a decorated
function or a ConverterSupport. Lower ``priority`` is tried first; the first whose
validator accepts the node converts it.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from trtforge.errors import PluginError

from trtforge_uff import ROUTE

ConverterFn = Callable[..., Any]
Validator = Callable[[Any, Any], "bool | str"]  # (node, graph) -> True or a reason
DEFAULT_PRIORITY = 100
BUILTIN_ORIGIN = "trtforge-uff"
_ATTRIBUTE = "__trtforge_uff_converters__"


@dataclass(frozen=True)
class ConverterSupport:
    op: str
    function: ConverterFn
    validator: Validator | None = None
    priority: int = DEFAULT_PRIORITY
    origin: str = BUILTIN_ORIGIN

    def refusal(self, node: Any, graph: Any) -> str | None:
        if self.validator is None:
            return None
        try:
            verdict = self.validator(node, graph)
        except Exception as exc:  # a validator bug reads as a refusal with its reason
            return f"validator {self.validator.__qualname__} failed: {type(exc).__name__}: {exc}"
        if verdict is True:
            return None
        return verdict if isinstance(verdict, str) and verdict else f"refused by {self.validator.__qualname__}"


def converter(*ops: str, validator: Validator | None = None,
              priority: int = DEFAULT_PRIORITY) -> Callable[[ConverterFn], ConverterFn]:
    """Mark ``fn`` as the converter of the UFF ops ``ops`` (``"Conv"``, ``"_NMS_TRT"``)."""
    if not ops:
        raise PluginError("@converter needs at least one UFF op")

    def mark(fn: ConverterFn) -> ConverterFn:
        records = tuple(ConverterSupport(op, fn, validator, priority) for op in ops)
        setattr(fn, _ATTRIBUTE, tuple(getattr(fn, _ATTRIBUTE, ())) + records)
        return fn

    return mark


def supports_of(item: Any, origin: str) -> list[ConverterSupport]:
    if isinstance(item, ConverterSupport):
        return [ConverterSupport(item.op, item.function, item.validator, item.priority, origin)]
    records = getattr(item, _ATTRIBUTE, None)
    if not records:
        raise PluginError(f"plugin {origin!r} registered {item!r} as a {ROUTE} converter, but it is "
                          f"neither a ConverterSupport nor decorated with @converter",
                          hint="decorate it with trtforge_uff.importer.registry.converter('<UFF op>')")
    return [ConverterSupport(r.op, r.function, r.validator, r.priority, origin) for r in records]


@dataclass
class ConverterRegistry:
    _by_op: dict[str, list[tuple[int, ConverterSupport]]] = field(default_factory=dict)
    _count: int = 0

    def add(self, support: ConverterSupport) -> None:
        self._count += 1
        self._by_op.setdefault(support.op, []).append((self._count, support))

    def extend(self, supports: Iterable[ConverterSupport]) -> None:
        for support in supports:
            self.add(support)

    def candidates(self, op: str) -> list[ConverterSupport]:
        entries = self._by_op.get(op, [])
        return [s for _, s in sorted(entries, key=lambda e: (e[1].priority, -e[0]))]

    def select(self, node: Any, graph: Any) -> tuple[ConverterSupport | None, list[str]]:
        reasons = []
        for support in self.candidates(node.op):
            why = support.refusal(node, graph)
            if why is None:
                return support, reasons
            reasons.append(why)
        return None, reasons

    def ops(self) -> list[str]:
        return sorted(self._by_op)


def builtin_supports() -> list[ConverterSupport]:
    from trtforge_uff.importer import converters

    found: list[ConverterSupport] = []
    for info in sorted(pkgutil.iter_modules(converters.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{converters.__name__}.{info.name}")
        for value in vars(module).values():
            if callable(value) and getattr(value, "__module__", None) == module.__name__:
                found.extend(getattr(value, _ATTRIBUTE, ()))
    return found


def build_registry(extra: Sequence[ConverterSupport] = ()) -> ConverterRegistry:
    """Built-in converters, then other plugins' (hook), then ``extra``."""
    from trtforge import plugins

    registry = ConverterRegistry()
    registry.extend(builtin_supports())
    for registered in plugins.collect_converters(ROUTE):
        registry.extend(supports_of(registered.item, registered.plugin))
    registry.extend(extra)
    return registry
