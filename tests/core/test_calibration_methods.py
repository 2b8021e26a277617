"""The calibration methods every route shares: parsing, the |x| histogram, percentile and
MSE amax, and the recorder (numpy arrays and framework tensors alike)."""
from __future__ import annotations

import numpy as np
import pytest

from trtforge.int8.calibration_methods import AbsHistogram, Method, RangeRecorder
from trtforge.errors import UsageError


def _fake_quantize(values: np.ndarray, scale: float) -> np.ndarray:
    """Symmetric INT8 round trip as a Q/DQ pair does it (round half to even, clamp)."""
    return np.clip(np.round(values / scale), -128, 127) * scale


def _laplace_with_outliers() -> np.ndarray:
    rng = np.random.default_rng(0)
    values = rng.laplace(0.0, 1.0, 200_000).astype(np.float32)
    values[::997] *= 8  # rare outliers
    values[::5] = 0.0  # exact zeros, as after a ReLU
    return values


def test_method_parsing() -> None:
    assert Method.parse("max") == Method("max")
    assert Method.parse(None) == Method("max")
    assert Method.parse("percentile").label == "percentile:99.99"
    assert Method.parse("Percentile:99.9").percentile == 99.9
    assert Method.parse("mse").needs_histogram and not Method.parse("max").needs_histogram
    for bad in ("entropy", "percentile:7", "percentile:x", "mse:3"):
        with pytest.raises(UsageError):
            Method.parse(bad)


@pytest.mark.parametrize("split", [1, 4])
def test_histogram_methods(split: int) -> None:
    """max is exact; the percentile matches numpy's within a bin, also when later batches
    widen the range (bins merge); mse clips a heavy tail and has less error than max."""
    values = _laplace_with_outliers()
    ordered = np.concatenate([values[np.abs(values) < 3], values[np.abs(values) >= 3]])  # the range grows
    histogram = AbsHistogram()
    for chunk in np.array_split(ordered, split):
        histogram.add(chunk)
    peak = float(np.abs(values).max())
    assert histogram.amax(Method("max")) == peak
    assert histogram.zeros == float((values == 0).sum())
    assert histogram.counts.sum() + histogram.zeros == values.size
    bin_width = histogram.top / histogram.bins
    for p in (99.0, 99.99):
        want = float(np.quantile(np.abs(values).astype(np.float64), p / 100))
        assert abs(histogram.amax(Method("percentile", p)) - want) <= 2 * bin_width, p
    amax = histogram.amax(Method("mse"))
    assert 0.05 * peak < amax < peak

    def error(a: float) -> float:
        return float(((_fake_quantize(values, a / 127) - values) ** 2).mean())

    assert error(amax) < 0.7 * error(peak)


def test_recorder_over_batches_and_tensors() -> None:
    """The recorder keeps a running max (or histogram) per key over batches; torch tensors
    give the same amax as the numpy arrays they hold."""
    torch = pytest.importorskip("torch")
    values = _laplace_with_outliers().reshape(8, -1)
    for method in (Method("max"), Method("percentile", 99.9), Method("mse")):
        from_numpy, from_torch = RangeRecorder(method), RangeRecorder(method)
        for row in values:
            from_numpy.add("t", row)
            from_torch.add("t", torch.from_numpy(row.copy()))
        assert from_numpy.ranges() == from_torch.ranges()
        if method.name == "max":
            assert from_numpy.ranges() == {"t": float(np.abs(values).max())}
        else:
            assert 0 < from_numpy.ranges()["t"] < float(np.abs(values).max())
    empty = RangeRecorder(Method("mse"))
    empty.add("z", np.zeros(10, np.float32))
    assert empty.ranges() == {"z": 0.0}
