"""The converter registry: which function turns which TensorFlow op into TensorRT layers.

A converter is ``fn(net, node, inputs) -> value | tuple of values`` decorated with
:func:`converter`: ``node`` is a :class:`~trtforge_tf_trt.graph.TfNode` (op, attributes, static
shapes, constant inputs), ``inputs`` its data inputs as values (numpy arrays for constants,
:class:`~trtforge_tf_trt.network.Act` for run-time tensors). The decorator records a frozen
:class:`~trtforge.plugin.converters.ConverterSupport` (op type, optional capability validator,
priority) on the function; nothing is registered globally on import. The machinery is core's
(:mod:`trtforge.plugin.converters`, shared with torch2trt and uff).

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

from typing import Sequence

from trtforge.plugin.converters import (DEFAULT_PRIORITY, ConverterFamily, ConverterFn, ConverterRegistry,
                                        ConverterSupport, Validator)

from trtforge_tf_trt import ROUTE

__all__ = ["DEFAULT_PRIORITY", "ConverterFn", "ConverterRegistry", "ConverterSupport", "Validator",
           "build_registry", "builtin_supports", "converter", "supports_of"]

BUILTIN_ORIGIN = "trtforge-tf-trt"
FAMILY = ConverterFamily(route=ROUTE, origin=BUILTIN_ORIGIN, package="trtforge_tf_trt.converters",
                         op_kind="TensorFlow op type")
converter = FAMILY.converter
supports_of = FAMILY.supports_of
builtin_supports = FAMILY.builtin_supports


def build_registry(extra: Sequence[ConverterSupport] = ()) -> ConverterRegistry:
    """Built-in converters, then those of other plugins (hook), then ``extra``."""
    return FAMILY.build_registry(extra)
