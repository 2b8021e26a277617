"""Which function writes which TF op as UFF nodes (``@tf_op``, discovered in ``ops/``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from trtforge.plugin.converters import marked_in_package

_ATTRIBUTE = "__trtforge_tf2uff_ops__"
Handler = Callable[[Any], Any]
Check = Callable[[Any], "bool | str"]


@dataclass(frozen=True)
class TfOpSupport:
    op: str
    function: Handler
    check: Check | None = None  # (ctx with .node set) -> True or why it cannot be converted


def tf_op(*ops: str, check: Check | None = None) -> Callable[[Handler], Handler]:
    def mark(fn: Handler) -> Handler:
        setattr(
            fn, _ATTRIBUTE, tuple(getattr(fn, _ATTRIBUTE, ())) + tuple(TfOpSupport(o, fn, check) for o in ops)
        )
        return fn

    return mark


@lru_cache(maxsize=1)
def table() -> dict[str, TfOpSupport]:
    found: dict[str, TfOpSupport] = {}
    for support in marked_in_package("trtforge_uff.tf2uff.ops", _ATTRIBUTE):
        found[support.op] = support
    return found
