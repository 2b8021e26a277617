"""Timing cache per GPU + TensorRT version: path choice, RTX no-op, merge and corruption logic."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import trtforge
from trtforge.tensorrt import timing_cache as tc
from trtforge.tensorrt.trt import TrtFacts


class LinesCodec:
    """A timing cache as a set of lines; anything not starting with the magic is corrupt."""

    MAGIC = b"TC1\n"

    def load(self, blob: bytes) -> set[bytes]:
        if not blob:
            return set()
        if not blob.startswith(self.MAGIC):
            raise ValueError("bad magic")
        return set(blob[len(self.MAGIC):].split(b"\n")) - {b""}

    def combine(self, into: set[bytes], other: set[bytes]) -> None:
        into |= other

    def serialize(self, cache: set[bytes]) -> bytes:
        return self.MAGIC + b"\n".join(sorted(cache)) + b"\n"


def test_name_carries_flavor_version_target_and_gpu() -> None:
    name = tc.timing_cache_name("tensorrt", "8.6.0", "sm90", "NVIDIA H200")
    assert name == "tensorrt-8.6.0-sm90-nvidia-h200.cache"
    assert tc.timing_cache_name("tensorrt_rtx", "1.7.1", "sm89") == "tensorrt-rtx-1.7.1-sm89.cache"
    assert tc.timing_cache_name("tensorrt", "10.0.1", "sm80") != tc.timing_cache_name("tensorrt", "10.0.1", "sm86")


def test_missing_file_loads_empty(tmp_path: Path) -> None:
    loaded = tc.load(tmp_path / "none.cache", LinesCodec())
    assert loaded.blob == b"" and loaded.cache == set() and loaded.problem is None


def test_corrupt_file_is_ignored_with_a_warning_and_replaced(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "t.cache"
    path.write_bytes(b"garbage")
    codec = LinesCodec()
    loaded = tc.load(path, codec)
    assert loaded.cache == set() and loaded.problem == "bad magic"
    assert "corrupt" in caplog.text
    loaded.cache.add(b"conv:tactic7")
    written = tc.merge_and_write(path, loaded.cache, loaded.blob, codec)
    assert path.read_bytes() == written == b"TC1\nconv:tactic7\n"


def test_merge_keeps_entries_written_by_another_build_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "t.cache"
    codec = LinesCodec()
    path.write_bytes(codec.serialize({b"a"}))
    first, second = tc.load(path, codec), tc.load(path, codec)
    first.cache.add(b"b")
    second.cache.add(b"c")
    tc.merge_and_write(path, first.cache, first.blob, codec)
    tc.merge_and_write(path, second.cache, second.blob, codec)
    assert codec.load(path.read_bytes()) == {b"a", b"b", b"c"}
    assert not list(tmp_path.glob(".t.cache.*"))  # no temp files left behind


def test_concurrent_merges_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.cache"
    codec = LinesCodec()

    def build(i: int) -> None:
        loaded = tc.load(path, codec)
        loaded.cache.add(f"layer{i}".encode())
        tc.merge_and_write(path, loaded.cache, loaded.blob, codec)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codec.load(path.read_bytes()) == {f"layer{i}".encode() for i in range(8)}


def test_attach_states_the_rtx_no_op() -> None:
    facts = TrtFacts.of("tensorrt_rtx", "1.7.1")
    timing, record = tc.BuildTimingCache.attach(facts, config=None, path="/x/t.cache")
    assert timing is None
    assert record == {"path": "/x/t.cache", "used": False,
                      "why": "TensorRT-RTX 1.7.1 makes timing-cache operations no-ops"}
    assert tc.BuildTimingCache.attach(facts, None, None)[1]["used"] is False


def test_convert_picks_the_default_path_next_to_the_engine_cache(tiny: Any, tmp_path: Path,
                                                                  tensorrt: Any) -> None:
    engine = trtforge.convert(trtforge_tiny_model(), backend="tiny", target="sm89", cache=tmp_path)
    record = engine.metadata["build"]["settings"]["timing_cache"]
    expected = tmp_path / "timing" / f"{tensorrt.flavor.replace('_', '-')}-{tensorrt.version}-sm89.cache"
    assert record["path"] == str(expected)
    if tensorrt.facts.timing_cache:
        assert record["used"] is True and expected.is_file()
    else:
        assert record["used"] is False and "no-op" in record["why"]
        assert not expected.exists()
    assert engine.metadata["build"]["settings"]["profiling_verbosity"] == "detailed"


def test_explicit_timing_cache_wins_and_no_cache_records_none(tiny: Any, tmp_path: Path) -> None:
    mine = tmp_path / "mine.cache"
    engine = trtforge.convert(trtforge_tiny_model(), backend="tiny", target="sm89",
                              cache=tmp_path / "c", timing_cache=mine)
    assert engine.metadata["build"]["settings"]["timing_cache"]["path"] == str(mine)
    engine = trtforge.convert(trtforge_tiny_model(seed=3), backend="tiny", target="sm89", cache=False)
    assert engine.metadata["build"]["settings"]["timing_cache"]["used"] is False


def trtforge_tiny_model(seed: int = 0) -> Any:
    from tiny_route import TinyModel

    return TinyModel(seed=seed)
