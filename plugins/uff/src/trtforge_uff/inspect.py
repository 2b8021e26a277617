"""What a UFF file holds: ops, plugin nodes and their fields, inputs and outputs, problems.

The data behind ``trtforge uff inspect`` (also usable from Python: :func:`describe`).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from trtforge_uff.format.values import DimOrder, DType, Ref


def _plain(value: Any) -> Any:
    if isinstance(value, DType):
        return value.name
    if isinstance(value, DimOrder):
        return value.text()
    if isinstance(value, Ref):
        return f"ref:{value.key}"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def describe(path: str | Path) -> dict[str, Any]:
    """Read ``path`` (binary or text UFF) and summarise it; problems are listed, not raised."""
    from trtforge_uff.format import io, validate
    from trtforge_uff.format.graph import UffGraph
    from trtforge_uff.importer.registry import build_registry

    meta = io.read(path)
    problems = [str(p) for p in validate.problems(meta)]
    graphs = []
    registry = build_registry()
    for index in range(len(meta.graphs)):
        graph = UffGraph.of(meta, index)
        ops = Counter(n.op for n in graph.nodes)
        unsupported = sorted({n.op for n in graph.nodes if n.op not in ("Input", "Const", "MarkOutput")
                              and not registry.candidates(n.op)})
        graphs.append({
            "id": graph.id,
            "nodes": len(graph.nodes),
            "ops": dict(sorted(ops.items())),
            "inputs": [{"name": n.id, "dtype": _plain(n.get("dtype")), "shape": n.get("shape")}
                       for n in graph.inputs()],
            "outputs": graph.outputs(),
            "plugin_nodes": [{"name": n.id, "op": n.op, "inputs": n.inputs,
                              "fields": {k: _plain(v) for k, v in sorted(n.fields.items())}}
                             for n in graph.plugin_nodes()],
            "ops_without_converter": unsupported,
        })
    return {
        "file": str(path),
        "version": meta.version,
        "descriptor_core_version": meta.descriptor_core_version,
        "descriptors": [{"id": d.id, "version": d.version, "optional": d.optional} for d in meta.descriptors],
        "referenced_data": len(meta.referenced_data),
        "graphs": graphs,
        "problems": problems,
    }
