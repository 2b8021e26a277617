"""Core's INT8 planner with two stand-in route callbacks: cache load/merge/save, method
mismatch, accuracy control recorded in the cache, the notes, option validation."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trtforge.int8.accuracy_control import AccuracyReport, min_cosine_option
from trtforge.int8.calibration import Calibration, CalibrationCache
from trtforge.errors import ConversionError, UsageError
from trtforge.int8.planner import plan_int8
from trtforge.progress import Stages


class Ctx:
    def __init__(self) -> None:
        self.notes: list[str] = []
        self.stages = Stages()

    def note(self, message: str) -> None:
        self.notes.append(message)

    def stage(self, name: str, detail: str = "") -> Any:
        return self.stages.stage(name, detail)


class Route:
    """measure: amax of input x times k for key "k"; choose: keeps "b" in float."""

    def __init__(self) -> None:
        self.measured: list[list[str]] = []
        self.chosen = 0

    def measure(self, batches: Any, names: Any, method: Any, keep: int) -> Any:
        names = list(names)
        self.measured.append(names)
        peak, count, samples = 0.0, 0, []
        for batch in batches:
            peak = max(peak, float(np.abs(batch["x"]).max()))
            count += 1
            samples.append(batch)
        return {n: peak * int(n[1:]) for n in names if n != "x9"}, count, samples[:1]

    def choose(self, cache: CalibrationCache, samples: Any, min_cosine: float) -> AccuracyReport:
        self.chosen += 1
        return AccuracyReport(target=min_cosine, samples=len(samples), all_int8=0.9, final=0.995,
                              quantized=2, float_nodes=["b"])


def _plan(route: Route, calibration: Any, ctx: Ctx, keys: tuple[str, ...] = ("x1", "x2"),
          min_cosine: float = 0.99) -> Any:
    return plan_int8(route="fake", calibration=calibration, fingerprint="fp", keys=list(keys),
                     input_names=["x"], measure=route.measure, choose=route.choose,
                     min_cosine=min_cosine, ctx=ctx, candidates=["a", "b"])


DATA = np.linspace(-2.0, 2.0, 32, dtype=np.float32).reshape(8, 4)


def test_calibrates_saves_and_then_reads_the_cache(tmp_path: Path) -> None:
    cache_file = tmp_path / "calib.json"
    route, ctx = Route(), Ctx()
    plan = _plan(route, Calibration(data=DATA, batch_size=4, cache=cache_file), ctx)
    assert route.measured == [["x1", "x2"]] and plan.ranges(["x1", "x2"]) == {"x1": 2.0, "x2": 4.0}
    assert plan.unquantized == ["b"] and route.chosen == 1
    assert any("calibrated 2 tensor range(s) on 2 batch(es) (max)" in n for n in ctx.notes)
    saved = CalibrationCache.load(cache_file, model_fingerprint="fp")
    assert saved.unquantized == ["b"] and saved.batches == 2 and saved.producer == "fake"
    # From the cache alone: nothing measured, the float choice read back.
    again_route, again = Route(), Ctx()
    plan = _plan(again_route, Calibration(cache=cache_file), again)
    assert again_route.measured == [] and again_route.chosen == 0 and plan.unquantized == ["b"]
    assert any("read from calibration cache" in n and "calibration skipped" in n for n in again.notes)
    assert any("1 op(s) kept in float, as the calibration cache records" in n for n in again.notes)
    # A missing key: only that one is measured, merged into the same file.
    more = Route()
    _plan(more, Calibration(data=DATA, cache=cache_file), Ctx(), keys=("x1", "x2", "x3"))
    assert more.measured == [["x3"]]
    assert set(CalibrationCache.load(cache_file).ranges) == {"x1", "x2", "x3"}


def test_another_method_recalibrates(tmp_path: Path) -> None:
    cache_file = tmp_path / "calib.json"
    _plan(Route(), Calibration(data=DATA, cache=cache_file), Ctx())
    route, ctx = Route(), Ctx()
    _plan(route, Calibration(data=DATA, cache=cache_file, method="mse"), ctx)
    assert route.measured and any("calibrating again" in n for n in ctx.notes)
    assert CalibrationCache.load(cache_file).method == "mse"


def test_accuracy_control_off_and_errors() -> None:
    route, ctx = Route(), Ctx()
    plan = _plan(route, DATA, ctx, min_cosine=0)
    assert route.chosen == 0 and plan.unquantized == []
    assert any("disabled by int8_min_cosine=0" in n for n in ctx.notes)
    with pytest.raises(UsageError, match="needs calibration data"):
        _plan(Route(), None, Ctx())
    with pytest.raises(ConversionError, match="no range for"):
        _plan(Route(), DATA, Ctx(), keys=("x1", "x9"))  # the route measured no x9
    with pytest.raises(UsageError, match="int8_min_cosine"):
        min_cosine_option({"int8_min_cosine": 2})
    assert min_cosine_option({}) == 0.99


# --- readers of a float depthwise convolution (TensorRT 8.x mis-fuses their Quantize) ---------
def test_depthwise_readers_follow_pass_through_ops_to_the_quantized_readers() -> None:
    from trtforge.int8.planner import depthwise_readers

    # dw -> clip -> pw (quantized); dw2 -> bn -> relu -> {pw2, pool}; conv is not depthwise.
    readers = {"conv": ["dw"], "dw": ["clip"], "clip": ["pw"], "pw": ["dw2"], "dw2": ["bn"],
               "bn": ["relu"], "relu": ["pw2", "pool"], "pool": ["fc"]}
    found = depthwise_readers(["conv", "dw", "clip", "pw", "dw2", "bn", "relu", "pw2", "pool", "fc"],
                              readers, lambda n: n.startswith("dw"), {"conv", "dw", "pw", "dw2", "pw2", "fc"},
                              lambda n: n in {"clip", "bn", "relu"})
    # the pooling stops the walk: fc does not read the depthwise output unchanged
    assert found == {"dw": ["pw"], "dw2": ["pw2"]}


class Facts:
    def __init__(self, version: str, flavor: str = "tensorrt") -> None:
        from trtforge.tensorrt.trt import TrtFacts

        self.facts = TrtFacts.of(flavor, version)


@pytest.mark.parametrize(("flavor", "version", "kept"), [
    ("tensorrt", "8.6.0", ["b", "c"]),          # 8.x: the reader of float depthwise "b" joins it
    ("tensorrt", "10.13.0", ["b"]),
    ("tensorrt_rtx", "1.7.1", ["b"]),
])
def test_readers_of_a_float_depthwise_conv_stay_float_where_tensorrt_needs_it(
        flavor: str, version: str, kept: list[str], tmp_path: Path) -> None:
    route, ctx = Route(), Ctx()
    ctx.tensorrt = Facts(version, flavor)
    cache_file = tmp_path / "calib.json"
    walks: list[int] = []

    def depthwise() -> dict[str, list[str]]:
        walks.append(1)
        return {"b": ["c"], "a": ["b"]}

    plan = plan_int8(route="fake", calibration=Calibration(data=DATA, cache=cache_file), fingerprint="fp",
                     keys=["x1"], input_names=["x"], measure=route.measure, choose=route.choose,
                     min_cosine=0.99, ctx=ctx, candidates=["a", "b", "c"], depthwise=depthwise)
    assert plan.unquantized == kept
    assert len(walks) == (1 if len(kept) == 2 else 0)  # the graph is walked only where it matters
    added = [n for n in ctx.notes if "reading a float depthwise convolution" in n]
    assert bool(added) == (len(kept) == 2)
    # the cache keeps the accuracy control's own choice: it serves every TensorRT version
    assert CalibrationCache.load(cache_file, model_fingerprint="fp").unquantized == ["b"]
