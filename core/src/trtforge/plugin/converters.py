"""Converter registries: which function turns which op of a route's graph into TensorRT layers.

Every layer-by-layer route (torch2trt, tf_trt, uff) has the same machinery, so it lives here
once. A route makes one :class:`ConverterFamily` (its name, where its built-in converters live,
how an op and a node are named) and exports the family's ``converter`` decorator. The decorator
records a frozen :class:`ConverterSupport` on the function; nothing is registered globally on
import. A route's registry is its own converter modules plus whatever other plugins hand over
through the core hook ``register_converters(route, register)``::

    @hookimpl
    def register_converters(route, register):
        if route == "tf_trt":
            register(my_decorated_converter)   # or a ConverterSupport

Converters of one op are tried by ``priority`` (lower first, the order backends use; on a tie
the later registration wins, so a plugin can override a built-in one), and the first whose
validator accepts the node is used. A validator gets the node (and whatever context the route
passes, e.g. the graph) and returns ``True`` to accept, ``False`` or a reason string to refuse;
validators run before any layer is built, for the coverage report: :meth:`ConverterRegistry.plan`
picks every node's converter and gathers the nodes none takes into :class:`Gap` s, which
:func:`unsupported_error` turns into the one error that names them all.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Sequence

from trtforge.errors import PluginError, UnsupportedOperationsError

ConverterFn = Callable[..., Any]
Validator = Callable[..., "bool | str"]
DEFAULT_PRIORITY = 100
MAX_PLACES = 4  # places a gap names before "..."


@dataclass(frozen=True)
class ConverterSupport:
    """One way of converting one op: the function, when it applies, and how eager it is."""

    op: Any  # an op type name, or for torch an ATen overload / Python callable
    function: ConverterFn
    validator: Validator | None = None
    priority: int = DEFAULT_PRIORITY
    origin: str = ""

    @property
    def target(self) -> Any:
        """The op, under the name torch users know (``node.target``)."""
        return self.op

    @property
    def name(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"

    def refusal(self, node: Any, *context: Any) -> str | None:
        """None if this converter takes ``node``, else why not."""
        if self.validator is None:
            return None
        validator_name = getattr(self.validator, "__qualname__", repr(self.validator))
        try:
            verdict = self.validator(node, *context)
        except Exception as exc:  # a validator bug reads as a refusal, with the reason
            return f"validator {validator_name} failed: {type(exc).__name__}: {exc}"
        if verdict is True:
            return None
        if isinstance(verdict, str) and verdict:
            return verdict
        return f"refused by {validator_name}"


@dataclass
class ConverterRegistry:
    """Every converter known to one conversion, by op name."""

    op_name: Callable[[Any], str] = str
    node_op: Callable[[Any], Any] = lambda node: node.op
    _by_op: dict[str, list[tuple[int, ConverterSupport]]] = field(default_factory=dict)
    _count: int = 0

    def add(self, support: ConverterSupport) -> None:
        self._count += 1
        self._by_op.setdefault(self.op_name(support.op), []).append((self._count, support))

    def extend(self, supports: Iterable[ConverterSupport]) -> None:
        for support in supports:
            self.add(support)

    def candidates(self, op: Any) -> list[ConverterSupport]:
        entries = self._by_op.get(self.op_name(op), [])
        return [s for _, s in sorted(entries, key=lambda e: (e[1].priority, -e[0]))]

    def select(self, node: Any, *context: Any) -> tuple[ConverterSupport | None, list[str]]:
        """The converter for ``node`` and, if none takes it, every refusal reason."""
        reasons = []
        for support in self.candidates(self.node_op(node)):
            why = support.refusal(node, *context)
            if why is None:
                return support, reasons
            reasons.append(why)
        return None, reasons

    def ops(self) -> list[str]:
        return sorted(self._by_op)

    def plan(self, nodes: Iterable[Any], *context: Any, key: Callable[[Any], str],
             op: Callable[[Any], str], place: Callable[[Any], str],
             distinct_places: bool = True) -> "Plan":
        """Every node's converter, and the nodes none takes as gaps (nothing is built).

        ``key`` names a node in ``chosen``/``refusals``, ``op`` and ``place`` say what and where
        it is in a gap; ``distinct_places``: a place is listed once however many nodes it has."""
        chosen: dict[str, ConverterSupport] = {}
        refusals: dict[str, list[str]] = {}
        refused: list[tuple[str, str, list[str]]] = []
        for node in nodes:
            support, reasons = self.select(node, *context)
            if support is not None:
                chosen[key(node)] = support
                continue
            refusals[key(node)] = reasons
            refused.append((op(node), place(node), reasons))
        return Plan(chosen, refusals, collect_gaps(refused, distinct_places))


@dataclass
class Gap:
    """One op no converter takes: how many nodes, where, and every reason converters gave."""

    op: str
    count: int = 0
    places: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def add(self, place: str, reasons: Iterable[str], distinct_places: bool = True) -> None:
        """Count one more node of this op (at ``place``, refused for ``reasons``)."""
        self.count += 1
        if not distinct_places or place not in self.places:
            self.places.append(place)
        for reason in reasons:
            if reason not in self.reasons:
                self.reasons.append(reason)

    def describe(self, max_places: int = MAX_PLACES) -> str:
        """``op xN (at place, ...): reasons`` -- one line of the coverage error."""
        places = self.places[:max_places] + (["..."] if len(self.places) > max_places else [])
        why = "; ".join(self.reasons) if self.reasons else "no converter"
        return f"{self.op} x{self.count} (at {', '.join(places)}): {why}"


def collect_gaps(refused: Iterable[tuple[str, str, Sequence[str]]],
                 distinct_places: bool = True) -> list[Gap]:
    """``(op, place, reasons)`` of every refused node -> one :class:`Gap` per op, in first-seen order."""
    gaps: dict[str, Gap] = {}
    for op, place, reasons in refused:
        gaps.setdefault(op, Gap(op)).add(place, reasons, distinct_places)
    return list(gaps.values())


@dataclass
class Plan:
    """What :meth:`ConverterRegistry.plan` found: the converters and the gaps."""

    chosen: dict[str, ConverterSupport]  # node key -> its converter
    refusals: dict[str, list[str]]  # node key -> why every converter refused it (no converter: [])
    gaps: list[Gap]


def unsupported_error(route: str, gaps: Sequence[Gap], hint: str, *, of: str = "",
                      max_places: int = MAX_PLACES) -> UnsupportedOperationsError:
    """The one error naming every gap (raise it), so ``backend="auto"`` moves on before any layer
    is built; ``of``: what was converted, for the message (e.g. the file)."""
    unsupported = [gap.describe(max_places) for gap in gaps]
    total = sum(gap.count for gap in gaps)
    where = f" of {of}" if of else ""
    return UnsupportedOperationsError(
        f"{route} cannot convert {len(gaps)} op kind(s) ({total} node(s)){where}: " + "; ".join(unsupported),
        route=route, unsupported=unsupported, hint=hint)


def marked_in_package(package: str, attribute: str) -> list[Any]:
    """Records that decorators left in ``attribute`` on the functions of ``package``'s modules,
    in module order (how every route discovers its built-in converters)."""
    root = importlib.import_module(package)
    found: list[Any] = []
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package}.{info.name}")
        for value in vars(module).values():
            if callable(value) and getattr(value, "__module__", None) == module.__name__:
                found.extend(getattr(value, attribute, ()))
    return found


@dataclass(frozen=True)
class ConverterFamily:
    """One route's converters: the decorator, the built-ins' package and the registry."""

    route: str
    origin: str  # the distribution of the built-in converters, e.g. "trtforge-tf-trt"
    package: str  # where the built-in converters live, e.g. "trtforge_tf_trt.converters"
    op_kind: str  # what an op is called in errors, e.g. "TensorFlow op type"
    op_name: Callable[[Any], str] = str
    node_op: Callable[[Any], Any] = lambda node: node.op
    op_check: Callable[[Any], bool] = lambda op: isinstance(op, str) and bool(op)

    @property
    def attribute(self) -> str:
        return f"__trtforge_{self.route}_converters__"

    def converter(self, *ops: Any, validator: Validator | None = None,
                  priority: int = DEFAULT_PRIORITY) -> Callable[[ConverterFn], ConverterFn]:
        """Mark ``fn`` as the converter of ``ops``."""
        if not ops or not all(self.op_check(op) for op in ops):
            raise PluginError(f"@converter needs at least one {self.op_kind}, got {ops!r}")

        def mark(fn: ConverterFn) -> ConverterFn:
            records = tuple(ConverterSupport(op, fn, validator, priority, self.origin) for op in ops)
            setattr(fn, self.attribute, tuple(getattr(fn, self.attribute, ())) + records)
            return fn

        return mark

    def supports_of(self, item: Any, origin: str) -> list[ConverterSupport]:
        """The records a registered item stands for (a decorated function or a ConverterSupport)."""
        if isinstance(item, ConverterSupport):
            return [replace(item, origin=origin)]
        records = getattr(item, self.attribute, None)
        if not records:
            raise PluginError(
                f"plugin {origin!r} registered {item!r} as a {self.route} converter, but it is "
                f"neither a ConverterSupport nor a function decorated with @converter",
                hint=f"decorate it with {self.route}'s converter(<{self.op_kind}>) decorator")
        return [replace(r, origin=origin) for r in records]

    def builtin_supports(self) -> list[ConverterSupport]:
        """Converters of the route's own converter modules, in module order."""
        return marked_in_package(self.package, self.attribute)

    def new_registry(self) -> ConverterRegistry:
        return ConverterRegistry(op_name=self.op_name, node_op=self.node_op)

    def build_registry(self, extra: Sequence[ConverterSupport] = ()) -> ConverterRegistry:
        """Built-in converters, then those of other plugins (hook), then ``extra``."""
        from trtforge.plugin import plugins

        registry = self.new_registry()
        registry.extend(self.builtin_supports())
        for registered in plugins.collect_converters(self.route):
            registry.extend(self.supports_of(registered.item, registered.plugin))
        registry.extend(extra)
        return registry
