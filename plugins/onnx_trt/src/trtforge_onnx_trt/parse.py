"""Parse the prepared ONNX model into the network; on failure, report every failing node.

Before parsing, nodes whose op the parser says it does not support (``supports_operator``)
are listed. When parsing fails, every error the parser recorded is turned into a
:class:`NodeProblem` (node name, op type, domain, the parser's message, and the source
location the exporter left in the node, if any), and all of them are raised together.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from trtforge.errors import ConversionError, UnsupportedOperationsError

log = logging.getLogger(__name__)

_STANDARD_DOMAINS = ("", "ai.onnx")
_NODE_ERRORS = ("UNSUPPORTED_NODE", "INVALID_NODE", "UNSUPPORTED_NODE_ATTR", "UNSUPPORTED_NODE_INPUT",
                "UNSUPPORTED_NODE_DATATYPE", "UNSUPPORTED_NODE_DYNAMIC", "UNSUPPORTED_NODE_SHAPE",
                "UNSUPPORTED_GRAPH", "PLUGIN_LOAD_FAILED")


@dataclass(frozen=True)
class NodeProblem:
    name: str
    op_type: str
    domain: str
    message: str
    location: str | None = None

    @property
    def op(self) -> str:
        return f"{self.domain}::{self.op_type}" if self.domain not in _STANDARD_DOMAINS else self.op_type

    def describe(self) -> str:
        text = f"{self.name or '<unnamed>'} ({self.op}): {self.message}"
        return text + (f" [at {self.location}]" if self.location else "")


def source_location(node: Any) -> str | None:
    """Where the exporter says the node came from (torch dynamo stack trace, TorchScript doc)."""
    props = {p.key: p.value for p in getattr(node, "metadata_props", [])}
    trace = props.get("pkg.torch.onnx.stack_trace") or node.doc_string or ""
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)\n\s*(.*)', trace)
    if frames:
        # The user's own frame, not torch's internals below it.
        own = [f for f in frames if "site-packages" not in f[0]] or frames
        file, line, func, code = own[0]
        return f"{file}:{line} in {func}: {code.strip()}"
    short = re.findall(r"([^\s()]+\.py)\((\d+)\): (\S+)", trace)  # TorchScript doc_string frames
    if short:
        file, line, func = short[0]
        return f"{file}:{line} in {func}"
    scopes = props.get("pkg.torch.onnx.name_scopes") or props.get("namespace")
    return scopes or None


def node_locations(model: Any) -> dict[str, str]:
    """Node name -> source location, taken from the exported model (passes may drop metadata)."""
    found = {}
    for node in model.graph.node:
        location = source_location(node)
        if node.name and location:
            found[node.name] = location
    return found


def nodes_with_unsupported_ops(parser: Any, model: Any, locations: dict[str, str] | None = None) -> list[NodeProblem]:
    """Nodes whose op type the parser reports as unsupported (may miss attribute-level limits)."""
    if not hasattr(parser, "supports_operator"):
        return []
    verdict: dict[str, bool] = {}
    problems = []
    for node in model.graph.node:
        if node.op_type not in verdict:
            verdict[node.op_type] = bool(parser.supports_operator(node.op_type))
        if not verdict[node.op_type]:
            custom = node.domain not in _STANDARD_DOMAINS
            message = ("custom op: needs a TensorRT plugin registered under this name" if custom
                       else "this TensorRT's ONNX parser has no importer for the op")
            where = source_location(node) or (locations or {}).get(node.name)
            problems.append(NodeProblem(node.name, node.op_type, node.domain, message, where))
    return problems


def _parser_problems(parser: Any, model: Any, locations: dict[str, str]) -> tuple[list[NodeProblem], list[str]]:
    nodes = list(model.graph.node)
    problems, general = [], []
    for i in range(parser.num_errors):
        error = parser.get_error(i)
        index = int(error.node()) if hasattr(error, "node") else -1
        message = str(error.desc()).strip()
        where = f"{error.file()}:{error.line()} {error.func()}" if hasattr(error, "func") else ""
        if message in ("false", "") and where:
            message = f"rejected by the parser's check ({where.split()[-1]})"
        code = str(error.code()).split(".")[-1]
        if 0 <= index < len(nodes):
            node = nodes[index]
            problems.append(NodeProblem(node.name, node.op_type, node.domain, f"{code}: {message}",
                                        source_location(node) or locations.get(node.name)))
        else:
            general.append(f"{code}: {message}")
    return problems, general


def parse_model(tensorrt: Any, network: Any, model: Any, source_name: str,
                locations: dict[str, str] | None = None, data: bytes | None = None,
                keepalive: list[Any] | None = None) -> list[NodeProblem]:
    """Fill ``network`` from ``model``; returns the pre-parse warnings (nodes flagged unsupported).

    ``locations`` maps node names to source locations recorded before the passes ran. The
    parser owns the weights it converts (TensorRT: "the parser must not be deleted until after
    the builder has run"), so it goes into ``keepalive`` (the conversion's ``ctx.keepalive``).
    """
    locations = locations or {}
    parser = tensorrt.create_onnx_parser(network)
    if keepalive is not None:
        keepalive.append(parser)
    flagged = nodes_with_unsupported_ops(parser, model, locations)
    if flagged:
        log.warning("%s: %d node(s) with ops the parser lists as unsupported: %s", source_name,
                    len(flagged), "; ".join(p.describe() for p in flagged))
    if data is None:
        data = model.SerializeToString()
    with tensorrt.capture_errors() as logged:
        ok = parser.parse(data)
    if ok:
        return flagged
    problems, general = _parser_problems(parser, model, locations)
    known = {p.name for p in problems}
    problems += [p for p in flagged if p.name not in known]
    if problems:
        counts = Counter(p.op for p in problems)
        summary = ", ".join(f"{op} x{k}" for op, k in counts.most_common())
        raise UnsupportedOperationsError(
            f"TensorRT's ONNX parser cannot convert {len(problems)} node(s) of {source_name}: {summary}",
            route="onnx_trt", unsupported=[p.describe() for p in problems],
            hint="rewrite or remove these ops (or register TensorRT plugins for custom ops); "
            "with --backend auto the next route is tried",
        )
    detail = "; ".join(general or logged[-3:]) or "no message from the parser"
    raise ConversionError(
        f"TensorRT's ONNX parser could not parse {source_name}: {detail}", route="onnx_trt",
        hint="run with --debug for the parser's full log",
    )


class HandedWeights(Mapping[str, dict[str, Any]]):
    """The weights the parser was handed, by the TensorRT layer they become, read lazily.

    The parser names a Conv/ConvTranspose layer after its node (kernel and bias are the node's
    initializers, passed unchanged) and the Constant layer of an initializer after the
    initializer. Core checks TensorRT's read-back of the network against these
    (:func:`trtforge.verify.snapshot.reconcile_weights`): TensorRT 8.6 reads back wrong values.
    """

    _CONVOLUTIONS = ("Conv", "ConvTranspose")

    def __init__(self, model: Any) -> None:
        self._initializers = {i.name: i for i in model.graph.initializer}
        self._convolutions = {n.name: n for n in model.graph.node
                              if n.op_type in self._CONVOLUTIONS and n.name}

    def _array(self, name: str) -> Any:
        from onnx import numpy_helper

        return numpy_helper.to_array(self._initializers[name])

    def __getitem__(self, layer: str) -> dict[str, Any]:
        node = self._convolutions.get(layer)
        if node is not None:
            found = {}
            for attr, index in (("kernel", 1), ("bias", 2)):
                if len(node.input) > index and node.input[index] in self._initializers:
                    found[attr] = self._array(node.input[index])
            return found
        if layer in self._initializers:
            return {"weights": self._array(layer)}
        raise KeyError(layer)

    def __iter__(self) -> Iterator[str]:
        yield from self._convolutions
        yield from (n for n in self._initializers if n not in self._convolutions)

    def __len__(self) -> int:
        return len(self._convolutions) + len(set(self._initializers) - set(self._convolutions))
