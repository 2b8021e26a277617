"""The converter registry: which function turns which ATen op into TensorRT layers.

A converter is a function ``fn(net, node, args, kwargs) -> value`` decorated with
:func:`converter`. The decorator records a frozen :class:`~trtforge.plugin.converters.ConverterSupport`
(target op, optional capability validator, priority) on the function; it does not register
anything globally, so importing a module never changes the registry by side effect. The
machinery is core's (:mod:`trtforge.plugin.converters`, shared with tf_trt and uff); this module says
how torch names ops.

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

from typing import Any, Sequence

from trtforge.plugin.converters import (DEFAULT_PRIORITY, ConverterFamily, ConverterFn, ConverterRegistry,
                                        ConverterSupport, Validator)

from trtforge_torch2trt import ROUTE

__all__ = ["DEFAULT_PRIORITY", "ConverterFn", "ConverterRegistry", "ConverterSupport", "Validator",
           "build_registry", "builtin_supports", "converter", "supports_of", "target_name"]

BUILTIN_ORIGIN = "trtforge-torch2trt"


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


FAMILY = ConverterFamily(route=ROUTE, origin=BUILTIN_ORIGIN, package="trtforge_torch2trt.converters",
                         op_kind="target op (an ATen overload or a Python callable)",
                         op_name=target_name, node_op=lambda node: node.target,
                         op_check=lambda op: op is not None)
converter = FAMILY.converter  # @converter(torch.ops.aten.relu.default, validator=..., priority=...)
supports_of = FAMILY.supports_of
builtin_supports = FAMILY.builtin_supports


def build_registry(extra: Sequence[ConverterSupport] = ()) -> ConverterRegistry:
    """Built-in converters, then those of other plugins (hook), then ``extra``."""
    return FAMILY.build_registry(extra)
