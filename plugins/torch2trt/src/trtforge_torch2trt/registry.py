"""The converter registry: which function turns which ATen op into TensorRT layers.

A converter is a function ``fn(net, node, args, kwargs) -> value`` decorated with
:func:`converter`. The decorator records a frozen :class:`ConverterSupport` (target op,
optional capability validator, priority) on the function; it does not register anything
globally, so importing a module never changes the registry by side effect.

The route's registry is built from its own ``converters`` package plus whatever other plugins
hand over through the core hook ``register_converters(route, register)``::

    @hookimpl
    def register_converters(route, register):
        if route == "torch2trt":
            register(my_decorated_converter)   # or a ConverterSupport

Several converters may serve one op: they are tried by ``priority`` (lower first, the same
order as backends; on a tie the later registration wins, so a plugin can override a built-in
one at the same priority), and the first whose validator accepts the node is used. A
validator returns ``True`` to accept, ``False`` or a reason string to refuse.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from trtforge.errors import PluginError

from trtforge_torch2trt import ROUTE

ConverterFn = Callable[..., Any]
Validator = Callable[[Any], "bool | str"]
DEFAULT_PRIORITY = 100
BUILTIN_ORIGIN = "trtforge-torch2trt"
_ATTRIBUTE = "__trtforge_converters__"


@dataclass(frozen=True)
class ConverterSupport:
    """One way of converting one op: the function, when it applies, and how eager it is."""

    target: Any
    function: ConverterFn
    validator: Validator | None = None
    priority: int = DEFAULT_PRIORITY
    origin: str = BUILTIN_ORIGIN

    @property
    def name(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"

    def refusal(self, node: Any) -> str | None:
        """None if this converter takes ``node``, else why not."""
        if self.validator is None:
            return None
        try:
            verdict = self.validator(node)
        except Exception as exc:  # a validator bug must read as a refusal, with the reason
            return f"validator {self.validator.__qualname__} failed: {type(exc).__name__}: {exc}"
        if verdict is True:
            return None
        if isinstance(verdict, str) and verdict:
            return verdict
        return f"refused by {getattr(self.validator, '__qualname__', self.validator)}"


def converter(
    *targets: Any, validator: Validator | None = None, priority: int = DEFAULT_PRIORITY
) -> Callable[[ConverterFn], ConverterFn]:
    """Mark ``fn`` as the converter of ``targets`` (ATen overloads or Python callables)."""
    if not targets:
        raise PluginError("@converter needs at least one target op")

    def mark(fn: ConverterFn) -> ConverterFn:
        existing = tuple(getattr(fn, _ATTRIBUTE, ()))
        records = tuple(ConverterSupport(t, fn, validator, priority) for t in targets)
        setattr(fn, _ATTRIBUTE, existing + records)
        return fn

    return mark


def supports_of(item: Any, origin: str) -> list[ConverterSupport]:
    """The records a registered item stands for (a decorated function or a ConverterSupport)."""
    if isinstance(item, ConverterSupport):
        return [ConverterSupport(item.target, item.function, item.validator, item.priority, origin)]
    records = getattr(item, _ATTRIBUTE, None)
    if not records:
        raise PluginError(
            f"plugin {origin!r} registered {item!r} as a {ROUTE} converter, but it is neither a "
            f"ConverterSupport nor a function decorated with @converter",
            hint="decorate it with trtforge_torch2trt.registry.converter(target_op)",
        )
    return [ConverterSupport(r.target, r.function, r.validator, r.priority, origin) for r in records]


def target_name(target: Any) -> str:
    """Readable op name: ``aten.convolution.default``, ``operator.getitem``."""
    if isinstance(target, str):
        return target
    name = getattr(target, "_name", None)  # OpOverload: "aten::convolution" + overload
    if name is not None and hasattr(target, "_overloadname"):
        namespace, _, op = str(name).partition("::")
        overload = str(target._overloadname)
        # torch names a non-default overload in ``_name`` already ("aten::add.Tensor")
        return f"{namespace}.{op}" if op.endswith(f".{overload}") else f"{namespace}.{op}.{overload}"
    module = getattr(target, "__module__", None) or ""
    module = "operator" if module in ("_operator", "operator") else module
    return f"{module}.{getattr(target, '__name__', repr(target))}".lstrip(".")


@dataclass
class ConverterRegistry:
    """Every converter known to one conversion, by op."""

    _by_target: dict[str, list[tuple[int, ConverterSupport]]] = field(default_factory=dict)
    _count: int = 0

    def add(self, support: ConverterSupport) -> None:
        self._count += 1
        self._by_target.setdefault(target_name(support.target), []).append((self._count, support))

    def extend(self, supports: Iterable[ConverterSupport]) -> None:
        for support in supports:
            self.add(support)

    def candidates(self, target: Any) -> list[ConverterSupport]:
        entries = self._by_target.get(target_name(target), [])
        return [s for _, s in sorted(entries, key=lambda e: (e[1].priority, -e[0]))]

    def select(self, node: Any) -> tuple[ConverterSupport | None, list[str]]:
        """The converter for ``node`` and, if none takes it, every refusal reason."""
        reasons = []
        for support in self.candidates(node.target):
            why = support.refusal(node)
            if why is None:
                return support, reasons
            reasons.append(why)
        return None, reasons

    def targets(self) -> list[str]:
        return sorted(self._by_target)


def builtin_supports() -> list[ConverterSupport]:
    """Converters of this package's ``converters`` modules, in module order."""
    from trtforge_torch2trt import converters

    found: list[ConverterSupport] = []
    for info in sorted(pkgutil.iter_modules(converters.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{converters.__name__}.{info.name}")
        for value in vars(module).values():
            if callable(value) and getattr(value, "__module__", None) == module.__name__:
                found.extend(getattr(value, _ATTRIBUTE, ()))
    return found


def build_registry(extra: Sequence[ConverterSupport] = ()) -> ConverterRegistry:
    """Built-in converters, then those of other plugins (hook), then ``extra``."""
    from trtforge import plugins

    registry = ConverterRegistry()
    registry.extend(builtin_supports())
    for registered in plugins.collect_converters(ROUTE):
        registry.extend(supports_of(registered.item, registered.plugin))
    registry.extend(extra)
    return registry
