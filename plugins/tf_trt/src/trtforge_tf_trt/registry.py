"""The converter registry: which function turns which TensorFlow op into TensorRT layers.

A converter is ``fn(net, node, inputs) -> value | tuple of values`` decorated with
:func:`converter`: ``node`` is a :class:`~trtforge_tf_trt.graph.TfNode` (op, attributes, static
shapes, constant inputs), ``inputs`` its data inputs as values (numpy arrays for constants,
:class:`~trtforge_tf_trt.network.Act` for run-time tensors). The decorator records a frozen
:class:`ConverterSupport` (op type, optional capability validator, priority) on the function;
nothing is registered globally on import.

The route's registry is its own ``converters`` package plus what other plugins hand over
through the core hook ``register_converters(route, register)``::

    @hookimpl
    def register_converters(route, register):
        if route == "tf_trt":
            register(my_decorated_converter)   # or a ConverterSupport

Converters of one op are tried by ``priority`` (lower first; on a tie the later registration
wins, so a plugin can override a built-in one), and the first whose validator accepts the node
is used. A validator ``validator(node)`` returns ``True`` to accept, ``False`` or a reason
string to refuse; it runs before any layer is built (the coverage report).
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from trtforge.errors import PluginError

from trtforge_tf_trt import ROUTE

ConverterFn = Callable[..., Any]
Validator = Callable[[Any], "bool | str"]
DEFAULT_PRIORITY = 100
BUILTIN_ORIGIN = "trtforge-tf-trt"
_ATTRIBUTE = "__trtforge_tf_trt_converters__"


@dataclass(frozen=True)
class ConverterSupport:
    """One way of converting one op type: the function, when it applies, how eager it is."""

    op: str
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
        except Exception as exc:  # a validator bug reads as a refusal, with the reason
            return f"validator {getattr(self.validator, '__qualname__', self.validator)} failed: " \
                   f"{type(exc).__name__}: {exc}"
        if verdict is True:
            return None
        if isinstance(verdict, str) and verdict:
            return verdict
        return f"refused by {getattr(self.validator, '__qualname__', self.validator)}"


def converter(*ops: str, validator: Validator | None = None,
              priority: int = DEFAULT_PRIORITY) -> Callable[[ConverterFn], ConverterFn]:
    """Mark ``fn`` as the converter of the TensorFlow op types ``ops`` (``"Conv2D"``)."""
    if not ops or not all(isinstance(op, str) and op for op in ops):
        raise PluginError("@converter needs at least one TensorFlow op type name")

    def mark(fn: ConverterFn) -> ConverterFn:
        existing = tuple(getattr(fn, _ATTRIBUTE, ()))
        setattr(fn, _ATTRIBUTE, existing + tuple(ConverterSupport(op, fn, validator, priority) for op in ops))
        return fn

    return mark


def supports_of(item: Any, origin: str) -> list[ConverterSupport]:
    """The records a registered item stands for (a decorated function or a ConverterSupport)."""
    if isinstance(item, ConverterSupport):
        return [ConverterSupport(item.op, item.function, item.validator, item.priority, origin)]
    records = getattr(item, _ATTRIBUTE, None)
    if not records:
        raise PluginError(
            f"plugin {origin!r} registered {item!r} as a {ROUTE} converter, but it is neither a "
            f"ConverterSupport nor a function decorated with @converter",
            hint="decorate it with trtforge_tf_trt.registry.converter('OpType')")
    return [ConverterSupport(r.op, r.function, r.validator, r.priority, origin) for r in records]


@dataclass
class ConverterRegistry:
    """Every converter known to one conversion, by op type."""

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

    def select(self, node: Any) -> tuple[ConverterSupport | None, list[str]]:
        """The converter for ``node`` and, if none takes it, every refusal reason."""
        reasons = []
        for support in self.candidates(node.op):
            why = support.refusal(node)
            if why is None:
                return support, reasons
            reasons.append(why)
        return None, reasons

    def ops(self) -> list[str]:
        return sorted(self._by_op)


def builtin_supports() -> list[ConverterSupport]:
    """Converters of this package's ``converters`` modules, in module order."""
    from trtforge_tf_trt import converters

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
