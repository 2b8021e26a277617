"""Core partitioning on hand-made graphs: maximal segments, no cycles, min_block_size, the report."""
from __future__ import annotations

import pytest

from trtforge.errors import UnsupportedOperationsError, UsageError
from trtforge.program.partition import FRAMEWORK, TRT, GraphNode, partition, require_full


def chain(*specs: tuple[str, bool], cheap: frozenset[str] = frozenset()) -> list[GraphNode]:
    nodes, previous = [], "x"
    for name, supported in specs:
        nodes.append(GraphNode(name, f"op.{name.rstrip('0123456789')}", (previous,), supported,
                               None if supported else "no converter", macs=10, cheap=name in cheap,
                               outputs=((name, 4096, "1x1024"),)))
        previous = name
    return nodes


def test_fully_supported_graph_is_one_engine() -> None:
    report = partition(chain(*[(f"conv{i}", True) for i in range(6)]), ["conv5"], route="r")
    assert [s.kind for s in report.segments] == [TRT]
    assert report.fully_converted and report.graph_breaks == 0 and report.framework_mac_share == 0


def test_one_unsupported_op_splits_in_three_and_reports_boundaries() -> None:
    nodes = chain(*[(f"a{i}", True) for i in range(5)], ("custom0", False), *[(f"b{i}", True) for i in range(5)])
    report = partition(nodes, ["b4"], route="r")
    assert [s.kind for s in report.segments] == [TRT, FRAMEWORK, TRT]
    assert report.graph_breaks == 2
    assert report.framework_ops == ["op.custom (custom0)"]
    assert [(b.tensor, b.producer_stage, b.consumer_stages, b.bytes) for b in report.boundaries] == [
        ("a4", 0, [1], 4096), ("custom0", 1, [2], 4096)]
    assert report.segments[1].inputs == ["a4"] and report.segments[1].outputs == ["custom0"]
    assert report.framework_mac_share == pytest.approx(10 / 110)
    data = report.to_dict()
    assert data["boundary_bytes"] == 8192 and data["framework_segments"] == 1
    text = "\n".join(report.lines())
    assert "custom0 op.custom: no converter" in text and "a4 1x1024 (4.0 KiB): stage 0 -> 1" in text


def test_small_engine_segments_stay_in_the_framework() -> None:
    nodes = chain(("a0", True), ("a1", True), ("custom0", False), ("b0", True), ("b1", True))
    report = partition(nodes, ["b1"], route="r", min_block_size=3)
    assert [s.kind for s in report.segments] == [FRAMEWORK]
    assert report.demoted == ["a0", "a1", "b0", "b1"]
    assert "segment below min_block_size" in "\n".join(report.lines())


def test_cheap_ops_do_not_count_towards_the_block_size() -> None:
    nodes = chain(("v0", True), ("v1", True), ("v2", True), ("custom0", False),
                  *[(f"c{i}", True) for i in range(5)], cheap=frozenset({"v0", "v1", "v2"}))
    report = partition(nodes, ["c4"], route="r", min_block_size=3)
    assert [s.kind for s in report.segments] == [FRAMEWORK, TRT]
    assert report.segments[0].names == ["v0", "v1", "v2", "custom0"]


def test_independent_branches_make_one_segment_each_kind_without_cycles() -> None:
    """x -> t1..t3 (TRT) and x -> f (framework) -> t4..t6; join: TRT. A naive order interleaves
    the branches; kind-first order keeps t1..t3 with the join where that creates no cycle."""
    node = GraphNode
    nodes = [node("t1", "op.t", ("x",)), node("f", "op.f", ("x",), False, "no converter"),
             node("t2", "op.t", ("t1",)), node("g1", "op.t", ("f",)), node("t3", "op.t", ("t2",)),
             node("g2", "op.t", ("g1",)), node("join", "op.t", ("t3", "g2"))]
    report = partition(nodes, ["join"], route="r", min_block_size=1)
    kinds = [s.kind for s in report.segments]
    assert kinds.count(FRAMEWORK) == 1
    position = {n: i for i, s in enumerate(report.segments) for n in s.names}
    for candidate in nodes:  # every producer runs in the same or an earlier stage
        for producer in candidate.inputs:
            if producer in position:
                assert position[producer] <= position[candidate.name]
    assert report.segments[0].names == ["t1", "t2", "t3"]


def test_framework_ops_force_ops_out_with_or_without_overload() -> None:
    nodes = chain(*[(f"conv{i}", True) for i in range(3)], ("soft0", True), *[(f"fc{i}", True) for i in range(3)])
    nodes = [GraphNode(n.name, "aten.softmax.int" if n.name == "soft0" else n.op, n.inputs) for n in nodes]
    report = partition(nodes, ["fc2"], route="r", min_block_size=1, framework_ops=["aten.softmax"])
    assert report.forced == ["soft0"]
    assert [s.kind for s in report.segments] == [TRT, FRAMEWORK, TRT]
    assert "forced by framework_ops" in "\n".join(report.lines())


def test_never_makes_the_report_the_error() -> None:
    nodes = chain(("a0", True), ("bad0", False), ("bad1", False), ("b0", True))
    report = partition(nodes, ["b0"], route="r", min_block_size=1)
    with pytest.raises(UnsupportedOperationsError) as info:
        require_full(report)
    assert info.value.unsupported == ["op.bad at bad0: no converter", "op.bad at bad1: no converter"]


@pytest.mark.parametrize("kwargs", [{"min_block_size": 0}, {"min_block_size": True},
                                    {"framework_ops": "aten.relu"}])
def test_bad_policy_arguments_are_usage_errors(kwargs: dict) -> None:
    with pytest.raises(UsageError):
        partition(chain(("a0", True)), ["a0"], route="r", **kwargs)


def test_convert_refuses_an_unknown_fallback_policy() -> None:
    import trtforge

    with pytest.raises(UsageError, match="fallback must be one of auto, never, always"):
        trtforge.convert("model.onnx", fallback="sometimes")
    with pytest.raises(UsageError, match="framework_ops needs fallback 'auto' or 'always'"):
        trtforge.convert("model.onnx", fallback="never", framework_ops=["aten.relu"])
