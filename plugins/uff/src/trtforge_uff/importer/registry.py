"""Which function converts which UFF op; other plugins add or override through the hook.

A converter is ``fn(ctx, node, inputs) -> value | list[value]`` decorated with
:func:`converter`; values are TensorRT ``ITensor`` objects or numpy arrays (constants, kept
in numpy so shape-like inputs -- Reshape's shape, Transpose's perm -- stay readable). The
decorator only records a :class:`~trtforge.plugin.converters.ConverterSupport` on the function;
nothing is global (the machinery is core's :mod:`trtforge.plugin.converters`). Validators are
``validator(node, graph)``.
Other plugins register through ``register_converters(route="uff", register)``: a decorated
function or a ConverterSupport. Lower ``priority`` is tried first; the first whose
validator accepts the node converts it.
"""

from __future__ import annotations

from typing import Sequence

from trtforge.plugin.converters import (DEFAULT_PRIORITY, ConverterFamily, ConverterFn, ConverterRegistry,
                                        ConverterSupport, Validator)

from trtforge_uff import ROUTE

__all__ = ["DEFAULT_PRIORITY", "ConverterFn", "ConverterRegistry", "ConverterSupport", "Validator",
           "build_registry", "builtin_supports", "converter", "supports_of"]

BUILTIN_ORIGIN = "trtforge-uff"
FAMILY = ConverterFamily(route=ROUTE, origin=BUILTIN_ORIGIN, package="trtforge_uff.importer.converters",
                         op_kind="UFF op")
converter = FAMILY.converter
supports_of = FAMILY.supports_of
builtin_supports = FAMILY.builtin_supports


def build_registry(extra: Sequence[ConverterSupport] = ()) -> ConverterRegistry:
    """Built-in converters, then those of other plugins (hook), then ``extra``."""
    return FAMILY.build_registry(extra)
