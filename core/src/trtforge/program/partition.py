"""Route-neutral partitioning: which nodes TensorRT runs and which stay in the framework.

A route describes its graph as :class:`GraphNode` records (topological order, inputs by node
name, whether a converter takes the node and why not, its multiply-accumulates and whether it
is a cheap data-movement op); :func:`partition` cuts it into ordered :class:`Segment` s and a
:class:`FallbackReport` that says, before anything is built, what stays in the framework and
what that costs.

The cut is a topological order that keeps taking nodes of the kind it is on while any is
ready, then splits the order where the kind changes. Any split of a topological order into
consecutive blocks is acyclic, so no segment waits on a later one; taking same-kind nodes
first makes the blocks maximal for the independent branches that a plain order would
interleave. TensorRT segments with fewer than ``min_block_size`` compute ops (cheap ops do not
count: a reshape between two framework ops is not worth an engine) go back to the framework,
and the cut is redone until nothing changes (Torch-TensorRT's ``min_block_size``, TF-TRT's
``minimum_segment_size``).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from trtforge.errors import UnsupportedOperationsError, UsageError

FALLBACK_POLICIES: tuple[str, ...] = ("auto", "never", "always")
DEFAULT_MIN_BLOCK_SIZE = 5  # Torch-TensorRT's default
TRT, FRAMEWORK = "tensorrt", "framework"


@dataclass(frozen=True)
class GraphNode:
    """One op of a route's graph, as partitioning sees it.

    ``outputs``: ``(tensor name, bytes per sample or total bytes, shape text)`` per value the
    node produces, for the boundary report; ``inputs`` name producer nodes (graph inputs and
    constants are not nodes and never cross a stage boundary as producers).
    """

    name: str
    op: str
    inputs: tuple[str, ...] = ()
    supported: bool = True
    reason: str | None = None
    macs: int = 0
    cheap: bool = False
    place: str = ""
    outputs: tuple[tuple[str, int, str], ...] = ()


@dataclass
class Segment:
    kind: str  # TRT or FRAMEWORK
    nodes: list[GraphNode]
    inputs: list[str] = field(default_factory=list)   # producer node names (or graph inputs) read
    outputs: list[str] = field(default_factory=list)  # node names later segments / outputs read

    @property
    def names(self) -> list[str]:
        return [n.name for n in self.nodes]

    @property
    def compute_ops(self) -> int:
        return sum(1 for n in self.nodes if not n.cheap)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "nodes": len(self.nodes), "ops": _op_counts(self.nodes),
                "inputs": list(self.inputs), "outputs": list(self.outputs)}


@dataclass
class Boundary:
    """A value that crosses from one stage to the next."""

    tensor: str
    producer_stage: int
    consumer_stages: list[int]
    bytes: int
    shape: str

    def to_dict(self) -> dict[str, Any]:
        return {"tensor": self.tensor, "from": self.producer_stage, "to": self.consumer_stages,
                "bytes": self.bytes, "shape": self.shape}


@dataclass
class FallbackReport:
    """What stays in the framework, written before anything is built."""

    route: str
    segments: list[Segment]
    boundaries: list[Boundary]
    forced: list[str]
    demoted: list[str]
    total_macs: int

    @property
    def framework_segments(self) -> list[Segment]:
        return [s for s in self.segments if s.kind == FRAMEWORK]

    @property
    def graph_breaks(self) -> int:
        """Hand-overs between stages: one fewer than the number of stages."""
        return max(len(self.segments) - 1, 0)

    @property
    def framework_macs(self) -> int:
        return sum(n.macs for s in self.framework_segments for n in s.nodes)

    @property
    def framework_mac_share(self) -> float:
        return self.framework_macs / self.total_macs if self.total_macs else 0.0

    @property
    def framework_ops(self) -> list[str]:
        return [f"{n.op} ({n.name}{' at ' + n.place if n.place else ''})"
                for s in self.framework_segments for n in s.nodes]

    @property
    def fully_converted(self) -> bool:
        return not self.framework_segments

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "stages": [s.to_dict() for s in self.segments],
            "framework_segments": len(self.framework_segments),
            "graph_breaks": self.graph_breaks,
            "boundaries": [b.to_dict() for b in self.boundaries],
            "boundary_bytes": sum(b.bytes for b in self.boundaries),
            "framework_ops": self.framework_ops,
            "framework_mac_share": round(self.framework_mac_share, 6),
            "forced": list(self.forced),
            "demoted": list(self.demoted),
        }

    def lines(self) -> list[str]:
        """The report as text, one line per fact."""
        out = [f"{self.route}: {len(self.segments)} stage(s), {len(self.framework_segments)} in the "
               f"framework, {self.graph_breaks} graph break(s), "
               f"{100 * self.framework_mac_share:.2f}% of the multiply-accumulates in the framework"]
        for index, segment in enumerate(self.segments):
            ops = ", ".join(f"{op} x{n}" for op, n in _op_counts(segment.nodes).items())
            out.append(f"  stage {index} [{segment.kind}] {len(segment.nodes)} node(s): {ops}")
            if segment.kind == FRAMEWORK:
                for node in segment.nodes:
                    why = node.reason or ("forced by framework_ops" if node.name in self.forced
                                          else "segment below min_block_size")
                    out.append(f"    {node.name} {node.op}{' at ' + node.place if node.place else ''}: {why}")
        for boundary in self.boundaries:
            out.append(f"  {boundary.tensor} {boundary.shape} ({_size(boundary.bytes)}): stage "
                       f"{boundary.producer_stage} -> {', '.join(map(str, boundary.consumer_stages))}")
        return out


def _size(count: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return f"{count} B"


def _op_counts(nodes: Iterable[GraphNode]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in nodes:
        counts[node.op] = counts.get(node.op, 0) + 1
    return counts


def check_policy(fallback: str, min_block_size: int, framework_ops: Sequence[str]) -> None:
    if fallback not in FALLBACK_POLICIES:
        raise UsageError(f"fallback must be one of {', '.join(FALLBACK_POLICIES)}, got {fallback!r}",
                         hint="auto: fall back only where needed; never: fail listing every op; "
                         "always: a program even when everything converts")
    if isinstance(min_block_size, bool) or not isinstance(min_block_size, int) or min_block_size < 1:
        raise UsageError(f"min_block_size must be a positive integer, got {min_block_size!r}",
                         hint=f"the default is {DEFAULT_MIN_BLOCK_SIZE} (as Torch-TensorRT)")
    if isinstance(framework_ops, str) or not all(isinstance(op, str) for op in framework_ops):
        raise UsageError("framework_ops must be a list of op names",
                         hint="e.g. framework_ops=['aten.softmax.int']")


def partition(nodes: Sequence[GraphNode], outputs: Sequence[str], *, route: str,
              min_block_size: int = DEFAULT_MIN_BLOCK_SIZE,
              framework_ops: Sequence[str] = ()) -> FallbackReport:
    """Cut ``nodes`` (topological order) into stages; ``outputs``: node names the graph returns."""
    check_policy("auto", min_block_size, framework_ops)
    forced_ops = set(framework_ops)
    forced = [n.name for n in nodes if n.op in forced_ops or short_op(n.op) in forced_ops]
    on_trt = {n.name: n.supported and n.name not in forced for n in nodes}
    demoted: list[str] = []
    while True:
        segments = _cut(nodes, on_trt)
        small = [s for s in segments if s.kind == TRT and s.compute_ops < min_block_size]
        if not small or all(not on_trt[n.name] for s in small for n in s.nodes):
            break
        for segment in small:
            for node in segment.nodes:
                on_trt[node.name] = False
                demoted.append(node.name)
    _wire(segments, nodes, outputs)
    return FallbackReport(route=route, segments=segments, boundaries=_boundaries(segments, nodes),
                          forced=forced, demoted=demoted, total_macs=sum(n.macs for n in nodes))


def require_full(report: FallbackReport) -> None:
    """``fallback="never"``: the report is the error."""
    if report.fully_converted:
        return
    unsupported = [f"{n.op} at {n.place or n.name}: {n.reason or 'forced to the framework'}"
                   for s in report.framework_segments for n in s.nodes]
    raise UnsupportedOperationsError(
        f"{report.route} cannot convert {len(unsupported)} node(s) and fallback is 'never': "
        + "; ".join(unsupported[:20]) + (" ..." if len(unsupported) > 20 else ""),
        route=report.route, unsupported=unsupported,
        hint="allow the framework to run them (fallback='auto'), add converters, or use another route")


DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int32": 4, "int64": 8, "uint8": 1, "int8": 1,
               "bool": 1, "float64": 8}


def value_size(shape: Sequence[int | None] | None, dtype: str) -> tuple[int, str]:
    """A value's bytes and shape text for :attr:`GraphNode.outputs`; an unknown or dynamic size
    counts 1 (so a batch dimension gives bytes per sample), an unknown shape 0 bytes."""
    if shape is None:
        return 0, "?"
    count = 1
    for d in shape:
        count *= 1 if d is None or d < 0 else int(d)
    return count * DTYPE_BYTES.get(dtype, 4), "x".join("?" if d is None or d < 0 else str(d) for d in shape)


def short_op(op: str) -> str:
    """``aten.softmax.int`` -> ``aten.softmax``: a forced op (or a route's op table) may omit
    its overload."""
    parts = op.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else op


def _cut(nodes: Sequence[GraphNode], on_trt: dict[str, bool]) -> list[Segment]:
    index = {n.name: i for i, n in enumerate(nodes)}
    users: dict[str, list[str]] = {n.name: [] for n in nodes}
    waiting = {}
    for node in nodes:
        producers = {p for p in node.inputs if p in index}
        waiting[node.name] = len(producers)
        for producer in producers:
            users[producer].append(node.name)
    ready: dict[bool, list[int]] = {True: [], False: []}
    for node in nodes:
        if waiting[node.name] == 0:
            heapq.heappush(ready[on_trt[node.name]], index[node.name])
    order: list[GraphNode] = []
    current = bool(nodes) and on_trt[nodes[0].name]
    while ready[True] or ready[False]:
        if not ready[current]:
            current = not current
        node = nodes[heapq.heappop(ready[current])]
        order.append(node)
        for user in users[node.name]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready[on_trt[user]], index[user])
    segments: list[Segment] = []
    for node in order:
        kind = TRT if on_trt[node.name] else FRAMEWORK
        if not segments or segments[-1].kind != kind:
            segments.append(Segment(kind, []))
        segments[-1].nodes.append(node)
    return segments


def _wire(segments: list[Segment], nodes: Sequence[GraphNode], outputs: Sequence[str]) -> None:
    stage_of = {n.name: i for i, s in enumerate(segments) for n in s.nodes}
    for i, segment in enumerate(segments):
        reads: list[str] = []
        for node in segment.nodes:
            for producer in node.inputs:
                if stage_of.get(producer, -1) != i and producer not in reads:
                    reads.append(producer)
        segment.inputs = reads
    wanted: dict[int, list[str]] = {}
    for i, segment in enumerate(segments):
        for producer in segment.inputs:
            if producer in stage_of:
                wanted.setdefault(stage_of[producer], []).append(producer)
    for name in outputs:
        if name in stage_of:
            wanted.setdefault(stage_of[name], []).append(name)
    for i, segment in enumerate(segments):
        seen: list[str] = []
        for name in segment.names:  # in the segment's own order
            if name in wanted.get(i, ()) and name not in seen:
                seen.append(name)
        segment.outputs = seen


def _boundaries(segments: list[Segment], nodes: Sequence[GraphNode]) -> list[Boundary]:
    by_name = {n.name: n for n in nodes}
    stage_of = {n.name: i for i, s in enumerate(segments) for n in s.nodes}
    found: dict[str, Boundary] = {}
    for i, segment in enumerate(segments):
        for producer in segment.inputs:
            if producer not in stage_of:
                continue
            node = by_name[producer]
            size = sum(b for _, b, _ in node.outputs)
            shape = ", ".join(s for _, _, s in node.outputs)
            boundary = found.setdefault(producer, Boundary(producer, stage_of[producer], [], size, shape))
            boundary.consumer_stages.append(i)
    return list(found.values())
