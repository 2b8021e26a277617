"""What every layer executor sees: a view of one snapshot layer, and the registry.

A layer executor is ``fn(layer: LayerView, inputs: list[Tensor | None]) -> list[Tensor]``.
Floating-point inputs arrive as float32 (reduced-precision tensors are widened first, the
way TensorRT accumulates); the executor rounds every output to the dtype the network
declares for it, so per-layer fp16/bf16 rounding happens in one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from trtforge.errors import CheckError

if TYPE_CHECKING:
    import torch

    from trtforge.verify.snapshot import Snapshot

LayerExecutor = Callable[["LayerView", "list[torch.Tensor | None]"], "list[torch.Tensor]"]
LAYER_EXECUTORS: dict[str, LayerExecutor] = {}


def register(*layer_types: str) -> Callable[[LayerExecutor], LayerExecutor]:
    """Register ``fn`` as the executor of the given TensorRT layer types (``LayerType`` names)."""

    def wrap(fn: LayerExecutor) -> LayerExecutor:
        for name in layer_types:
            if name in LAYER_EXECUTORS and LAYER_EXECUTORS[name] is not fn:
                raise CheckError(f"layer type {name} has two reference executors")
            LAYER_EXECUTORS[name] = fn
        return fn

    return wrap


@dataclass
class LayerView:
    """One layer of a snapshot, with typed access to its attributes and weights."""

    index: int
    record: dict[str, Any]
    snapshot: "Snapshot"

    @property
    def name(self) -> str:
        return str(self.record["name"])

    @property
    def type(self) -> str:
        return str(self.record["type"])

    @property
    def attrs(self) -> dict[str, Any]:
        return self.record["attrs"]

    def attr(self, key: str, default: Any = None) -> Any:
        value = self.attrs.get(key, default)
        return default if value is None else value

    def output_dtype(self, j: int = 0) -> str:
        return str(self.record["outputs"][j]["dtype"])

    def weights(self, key: str) -> "torch.Tensor | None":
        """The attribute's weights as a torch tensor (None when absent or empty)."""
        import torch

        array = self.snapshot.weight(self.attrs.get(key))
        if array is None or array.size == 0:
            return None
        return torch.from_numpy(array.copy())

    def fail(self, what: str, hint: str | None = None) -> CheckError:
        return CheckError(f"layer {self.name!r} ({self.type}): {what}", hint=hint)


def axes_from_mask(mask: int, rank: int) -> list[int]:
    return [a for a in range(rank) if mask & (1 << a)]


def normalize_axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis
