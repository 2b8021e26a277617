"""Calibration methods: how the amax of a tensor is chosen from what calibration saw.

- ``max``: the largest absolute value (no clipping; one outlier widens every step).
- ``percentile`` (``percentile:P``, default P = 99.99): the P-th percentile of ``|x|``.
- ``mse``: the amax minimising the expected squared quantization error (rounding error of
  the values inside the range plus clipping error of those beyond it), searched over a
  histogram of ``|x|``.

``max`` needs only a running maximum; the other two need a histogram of ``|x|`` over every
batch, which :class:`AbsHistogram` keeps with a fixed bin count, doubling its bin width when
a later batch reaches further than the range so far.

Shared by the routes (numpy only): values are numpy arrays or anything with
``.detach().cpu().numpy()`` (PyTorch tensors), so every route picks amax the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trtforge.int8.calibration import INT8_MAX
from trtforge.errors import UsageError

METHODS = ("max", "percentile", "mse")
DEFAULT_PERCENTILE = 99.99
BINS = 2048


def _as_float_array(values: Any) -> Any:
    """A flat float32 numpy view of ``values`` (a numpy array or a framework tensor)."""
    import numpy as np

    if hasattr(values, "detach"):
        tensor = values.detach().cpu()
        try:
            values = tensor.numpy()
        except TypeError:  # bfloat16 and other dtypes numpy lacks
            values = tensor.float().numpy()
    return np.asarray(values).astype(np.float32, copy=False).ravel()


@dataclass(frozen=True)
class Method:
    """A parsed ``Calibration(method=...)``."""

    name: str
    percentile: float = DEFAULT_PERCENTILE

    @property
    def needs_histogram(self) -> bool:
        return self.name != "max"

    @property
    def label(self) -> str:
        """The method as recorded in the calibration cache."""
        if self.name == "percentile":
            return f"percentile:{self.percentile:g}"
        return self.name

    @classmethod
    def parse(cls, text: str | None) -> Method:
        raw = (text or "max").strip().lower()
        name, _, argument = raw.partition(":")
        if name not in METHODS:
            raise UsageError(f"unknown calibration method {text!r}",
                             hint=f"use one of {', '.join(METHODS)} (percentile:P for another percentile)")
        if name != "percentile":
            if argument:
                raise UsageError(f"calibration method {name!r} takes no argument (got {text!r})")
            return cls(name)
        try:
            value = float(argument) if argument else DEFAULT_PERCENTILE
        except ValueError:
            value = -1.0
        if not 50.0 <= value <= 100.0:
            raise UsageError(f"calibration method {text!r}: the percentile must be in [50, 100]",
                             hint="e.g. percentile:99.99")
        return cls(name, value)


@dataclass
class AbsHistogram:
    """Counts of ``|x|`` in ``BINS`` equal bins over ``[0, top]`` (exact zeros counted apart:
    they quantize without error, and after a ReLU they are half of all values)."""

    top: float = 0.0
    counts: Any = None  # numpy float64 array, BINS long
    zeros: float = 0.0
    peak: float = 0.0
    bins: int = field(default=BINS)

    def add(self, values: Any) -> None:
        import numpy as np

        a = np.abs(_as_float_array(values))
        if a.size == 0:
            return
        nonzero = a[a > 0]
        self.zeros += float(a.size - nonzero.size)
        if nonzero.size == 0:
            return
        peak = float(nonzero.max())
        self.peak = max(self.peak, peak)
        if self.counts is None:
            self.top = peak
            self.counts = np.zeros(self.bins, dtype=np.float64)
        while peak > self.top:
            # Double the range: merge pairs of bins into the lower half.
            self.counts = np.concatenate([self.counts.reshape(-1, 2).sum(1),
                                          np.zeros(self.bins // 2, dtype=np.float64)])
            self.top *= 2.0
        index = np.minimum((nonzero.astype(np.float64) * (self.bins / self.top)).astype(np.int64),
                           self.bins - 1)
        self.counts += np.bincount(index, minlength=self.bins)

    def amax(self, method: Method) -> float:
        if self.counts is None:
            return 0.0
        if method.name == "percentile":
            return self._percentile(method.percentile)
        if method.name == "mse":
            return self._mse()
        return self.peak

    def _edges(self) -> Any:
        import numpy as np

        return np.linspace(0.0, self.top, self.bins + 1, dtype=np.float64)

    def _percentile(self, percentile: float) -> float:
        import numpy as np

        total = float(self.counts.sum()) + self.zeros
        wanted = total * percentile / 100.0 - self.zeros
        if wanted <= 0:
            return 0.0
        index = int(np.searchsorted(np.cumsum(self.counts), wanted))
        return min(float(self._edges()[min(index + 1, self.bins)]), self.peak)

    def _mse(self) -> float:
        """amax over candidate bin edges minimising sum(count * expected squared error)."""
        import numpy as np

        edges = self._edges()
        centers = (edges[:-1] + edges[1:]) / 2
        # candidates: every 8th edge from 1/64 of the range up to the observed peak
        candidates = edges[self.bins // 64::8]
        candidates = np.concatenate([candidates[candidates < self.peak], [self.peak]])
        step = candidates[:, None] / INT8_MAX
        inside = centers[None, :] <= candidates[:, None]
        # Rounding error inside the range: uniform over a step (step^2 / 12), except values
        # below half a step, which all round to zero (error = the value itself).
        rounding = np.where(centers[None, :] < step / 2, centers[None, :] ** 2, step ** 2 / 12)
        clipping = (centers[None, :] - candidates[:, None]) ** 2
        error = (np.where(inside, rounding, clipping) * self.counts[None, :]).sum(1)
        return float(candidates[int(np.argmin(error))])


@dataclass
class RangeRecorder:
    """Per-tensor statistics over the calibration batches, turned into amax by a method."""

    method: Method
    peaks: dict[str, float] = field(default_factory=dict)
    histograms: dict[str, AbsHistogram] = field(default_factory=dict)

    def add(self, key: str, value: Any) -> None:
        if self.method.needs_histogram:
            self.histograms.setdefault(key, AbsHistogram()).add(value)
            return
        import numpy as np

        a = _as_float_array(value)
        amax = float(np.abs(a).max()) if a.size else 0.0
        self.peaks[key] = max(amax, self.peaks.get(key, 0.0))

    def ranges(self) -> dict[str, float]:
        if not self.method.needs_histogram:
            return dict(self.peaks)
        return {key: histogram.amax(self.method) for key, histogram in self.histograms.items()}


__all__ = ["AbsHistogram", "BINS", "DEFAULT_PERCENTILE", "METHODS", "Method", "RangeRecorder"]
