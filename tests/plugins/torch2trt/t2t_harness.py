"""Shared harness of the torch2trt tests: convert a module with the real route and builder,
then run the network snapshot on the CPU reference executor against PyTorch (trtforge.check)."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

import trtforge
from trtforge.verify.checking import check

TARGET = "sm89"


def seeded(*shape: int, seed: int = 0, scale: float = 1.0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * scale


def convert(module: Any, inputs: Sequence[Any], precision: str = "fp32", **kwargs: Any) -> Any:
    return trtforge.convert(module, backend="torch2trt", inputs=list(inputs), precision=precision,
                            target=TARGET, cache=False, **kwargs)


def assert_matches(module: torch.nn.Module, *examples: torch.Tensor, precision: str = "fp32",
                   inputs: Sequence[Any] | None = None, feeds: Sequence[Any] | None = None) -> Any:
    """Convert (specs from ``inputs`` or the examples), check on ``feeds`` (default: examples)."""
    module = module.eval()
    engine = convert(module, inputs if inputs is not None else examples, precision)
    values = [np.asarray(t) for t in (feeds if feeds is not None else examples)]
    report = check(module, engine, inputs=values)
    assert report.passed, report.outputs
    return engine


def layer_types(engine: Any) -> list[str]:
    from trtforge.verify.checking import resolve_snapshot

    snapshot, _ = resolve_snapshot(engine)
    return [layer["type"] for layer in snapshot.layers]


class Lambda(torch.nn.Module):
    """A module whose forward is ``fn`` (the small op under test)."""

    def __init__(self, fn: Any) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, *xs: torch.Tensor) -> Any:
        return self.fn(*xs)
