"""``uff.Data`` <-> Python values, and dimension orders ("N+C" <-> [0, 2, INCREMENT, 1]).

A dimension order lists, in storage order, which canonical axis each stored axis holds;
canonical order is batch/out-channels first, then channels, then the spatial axes
(N=0, C=1 for activations; K=0, C=1 for filters; spatial from 2). ``+`` stands for "the
spatial axes, in increasing order" (INCREMENT after the first one), ``-`` for decreasing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from trtforge_uff.format import schema

_LETTERS = {"N": 0, "K": 0, "C": 1}


@dataclass(frozen=True)
class DimOrder:
    """One layout: ``{rank or SPECIAL: [canonical axis per stored axis, INCREMENT...]}``."""

    orders: tuple[tuple[int, tuple[int, ...]], ...]

    @classmethod
    def parse(cls, text: str) -> "DimOrder":
        values: list[int] = []
        for letter in text:
            if letter in _LETTERS:
                values.append(_LETTERS[letter])
            elif letter == "+":
                values.extend([2, schema.INCREMENT])
            elif letter == "-":
                values.extend([2, schema.DECREMENT])
            else:
                raise ValueError(f"unknown letter {letter!r} in dimension order {text!r} (use N, K, C, +, -)")
        return cls(((schema.SPECIAL, tuple(values)),))

    def for_rank(self, rank: int) -> list[int]:
        """Storage axis -> canonical axis, for a tensor of ``rank`` axes."""
        table = dict(self.orders)
        values = table.get(rank, table.get(schema.SPECIAL))
        if values is None:
            raise ValueError(f"dimension order {self.text()} has no entry for rank {rank}")
        return expand(values, rank)

    def text(self) -> str:
        table = dict(self.orders)
        values = table.get(schema.SPECIAL) or next(iter(table.values()), ())
        out, skip = [], False
        for index, value in enumerate(values):
            if skip:
                skip = False
                continue
            nxt = values[index + 1] if index + 1 < len(values) else None
            if nxt in (schema.INCREMENT, schema.DECREMENT):
                out.append("+" if nxt == schema.INCREMENT else "-")
                skip = True
            else:
                out.append({0: "N", 1: "C"}.get(value, str(value)))
        return "".join(out)


def expand(values: Sequence[int], rank: int) -> list[int]:
    """Unroll INCREMENT/DECREMENT markers into ``rank`` canonical axes."""
    fixed = sum(1 for v in values if v not in (schema.INCREMENT, schema.DECREMENT))
    run = rank - fixed  # how many axes the marked run stands for (including its first)
    out: list[int] = []
    for index, value in enumerate(values):
        if value in (schema.INCREMENT, schema.DECREMENT):
            continue
        nxt = values[index + 1] if index + 1 < len(values) else None
        if nxt in (schema.INCREMENT, schema.DECREMENT):
            step = 1 if nxt == schema.INCREMENT else -1
            count = run + 1
            if count < 0:
                raise ValueError(f"dimension order {list(values)} needs more than {rank} axes")
            out.extend(value + step * k for k in range(count))
        else:
            out.append(value)
    if len(out) != rank or sorted(out) != list(range(rank)):
        raise ValueError(f"dimension order {list(values)} does not describe {rank} axes")
    return out


def to_data(value: Any) -> Any:
    """A Python value as ``uff.Data`` (str, bool, int, float, bytes, lists of them, DimOrder,
    ``dtype:<name>`` markers are given as :class:`DType`)."""
    data = schema.Data()
    if isinstance(value, Ref):
        data.ref = value.key
    elif isinstance(value, DType):
        data.dtype = schema.DTYPES[value.name]
    elif isinstance(value, DimOrder):
        _fill_orders(data.dim_orders, value)
    elif isinstance(value, bool):
        data.b = value
    elif isinstance(value, int):
        data.i = value
    elif isinstance(value, float):
        data.d = value
    elif isinstance(value, str):
        data.s = value
    elif isinstance(value, bytes):
        data.blob = value
    elif isinstance(value, (list, tuple)):
        items = list(value)
        if items and all(isinstance(v, DimOrder) for v in items):
            for item in items:
                _fill_orders(data.dim_orders_list.val.add(), item)
        elif items and all(isinstance(v, DType) for v in items):
            data.dtype_list.val.extend(schema.DTYPES[v.name] for v in items)
        elif items and all(isinstance(v, bool) for v in items):
            data.b_list.val.extend(items)
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in items):
            data.i_list.val.extend(int(v) for v in items)  # [] is an empty int list
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
            data.d_list.val.extend(float(v) for v in items)
        elif all(isinstance(v, str) for v in items):
            data.s_list.val.extend(items)
        else:
            raise TypeError(f"cannot store the mixed list {items!r} in uff.Data")
    else:
        raise TypeError(f"cannot store {type(value).__name__} {value!r} in uff.Data")
    return data


def _fill_orders(message: Any, order: DimOrder) -> None:
    for key, values in order.orders:
        message.orders[key].val.extend(values)


def _orders_of(message: Any) -> DimOrder:
    return DimOrder(tuple(sorted((int(k), tuple(int(x) for x in v.val)) for k, v in message.orders.items())))


@dataclass(frozen=True)
class Ref:
    """A reference to ``MetaGraph.referenced_data[key]``."""

    key: str


@dataclass(frozen=True)
class DType:
    name: str  # one of schema.DTYPES


def from_data(data: Any) -> Any:
    """``uff.Data`` as a Python value (the inverse of :func:`to_data`); None when unset."""
    kind = data.WhichOneof("data_oneof")
    if kind is None:
        return None
    value = getattr(data, kind)
    if kind in ("s", "d", "b", "i", "blob"):
        return value
    if kind == "ref":
        return Ref(value)
    if kind == "dtype":
        return DType(schema.DTYPE_NAMES.get(value, f"unknown(0x{value:x})"))
    if kind == "dtype_list":
        return [DType(schema.DTYPE_NAMES.get(v, f"unknown(0x{v:x})")) for v in value.val]
    if kind == "dim_orders":
        return _orders_of(value)
    if kind == "dim_orders_list":
        return [_orders_of(v) for v in value.val]
    return list(value.val)
