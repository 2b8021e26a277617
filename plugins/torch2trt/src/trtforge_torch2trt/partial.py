"""torch2trt's half of hybrid programs: the captured graph as core's ``GraphNode`` s, and the
two builders (a TensorRT network for a segment, a re-exported PyTorch stage for a segment).

Three kinds of FX nodes never cross a stage boundary:
- constants (weights and anything computed from weights alone) are folded where they are used;
- shape arithmetic (``sym_size``, ``x.size(0) * 2``: values that are not tensors) is recomputed
  in every stage that needs it, so a node that reads one depends on the tensors behind it;
- a tuple and its ``getitem`` s stay together (``getitem`` takes its producer's side).
"""
from __future__ import annotations

import logging
import operator
from dataclasses import dataclass, field
from typing import Any

from trtforge.errors import ConversionError
from trtforge.program.partition import GraphNode, Segment, short_op
from trtforge.conversion.specs import InputSpec, ShapeProfile

from trtforge_torch2trt import ROUTE
from trtforge_torch2trt.capture import Captured, module_path
from trtforge_torch2trt.converters import CONST
from trtforge_torch2trt.coverage import mark_constants
from trtforge_torch2trt.fold import BatchNormFolds, batch_norm_folds
from trtforge_torch2trt.network import TORCH_TO_TRT, NetworkContext
from trtforge_torch2trt.precision import PrecisionPolicy
from trtforge_torch2trt.registry import ConverterRegistry, ConverterSupport, target_name

log = logging.getLogger(__name__)

# Data movement: a segment made of these alone is not worth an engine.
CHEAP_OPS = frozenset({
    "aten.view", "aten.reshape", "aten._unsafe_view", "aten.permute", "aten.transpose", "aten.t",
    "aten.expand", "aten.squeeze", "aten.unsqueeze", "aten.clone", "aten.slice", "aten.select",
    "aten.cat", "aten.alias", "aten.detach", "aten._to_copy", "aten.flatten", "aten.contiguous",
    "aten.split", "aten.split_with_sizes", "aten.unbind", "aten.chunk", "getitem",
})


def _op(node: Any) -> str:
    return target_name(node.target)


def _is_tensor(value: Any) -> bool:
    import torch

    return isinstance(value, torch.Tensor)


def _hint(dim: Any) -> int:
    if isinstance(dim, int):
        return dim
    hint = getattr(getattr(dim, "node", None), "hint", None)
    return int(hint) if hint is not None else 1


def _numel(value: Any) -> int:
    count = 1
    for dim in value.shape:
        count *= _hint(dim)
    return count


def _macs(node: Any) -> int:
    """Multiply-accumulates of the ops that dominate a model's cost (others count 0)."""
    op = short_op(_op(node))
    out = node.meta.get("val")
    if not _is_tensor(out):
        return 0
    arg_vals = [getattr(a, "meta", {}).get("val") for a in node.args if hasattr(a, "meta")]
    if op == "aten.convolution" and len(arg_vals) > 1 and _is_tensor(arg_vals[1]):
        weight = arg_vals[1]
        per_output = _numel(weight) // max(_hint(weight.shape[0]), 1)
        return _numel(out) * per_output
    if op in ("aten.mm", "aten.addmm", "aten.bmm", "aten.matmul", "aten.linear", "aten.baddbmm"):
        first = arg_vals[1] if op in ("aten.addmm", "aten.baddbmm") else arg_vals[0]
        if _is_tensor(first) and first.dim() >= 1:
            return _numel(out) * _hint(first.shape[-1])
    return 0


def _shape_text(value: Any) -> str:
    return "x".join(str(d) if isinstance(d, int) else str(getattr(d, "node", d)) for d in value.shape)


@dataclass
class TorchPartialGraph:
    """The captured program as core partitions it (``trtforge.program.route.PartialGraph``)."""

    captured: Captured
    chosen: dict[str, ConverterSupport]
    nodes: list[GraphNode]
    outputs: list[str]
    inputs: list[InputSpec]
    framework: str = "torch"
    by_tensor: dict[str, Any] = field(default_factory=dict)  # tensor name -> FX node
    shape_nodes: set[str] = field(default_factory=set)
    folds: BatchNormFolds = field(default_factory=BatchNormFolds)
    _constants: dict[str, Any] | None = None

    # --- shared -----------------------------------------------------------------------
    def constant_values(self) -> dict[str, Any]:
        """Node name -> value of every weight, buffer and weights-only result, computed once."""
        if self._constants is None:
            import torch
            from torch.fx.node import map_arg

            values: dict[str, Any] = dict(self.captured.constants)
            module = self.captured.program.graph_module
            with torch.no_grad():
                for node in self.captured.graph.nodes:
                    if node.op == "get_attr":
                        values[node.name] = getattr(module, str(node.target))
                    elif node.op == "call_function" and node.meta.get(CONST):
                        args = map_arg(node.args, lambda n: values[n.name])
                        kwargs = map_arg(node.kwargs, lambda n: values[n.name])
                        values[node.name] = node.target(*args, **kwargs)
            self._constants = values
        return self._constants

    def output_dtypes(self) -> dict[str, str]:
        found = {}
        for name in self.outputs:
            value = self.by_tensor[name].meta.get("val")
            found[name] = TORCH_TO_TRT.get(str(getattr(value, "dtype", "")), "float32")
        return found

    # --- TensorRT segments ------------------------------------------------------------
    def populate_segment(self, network: Any, segment: Segment, spec: Any, ctx: Any) -> list[InputSpec]:
        from torch.fx.node import map_arg

        from trtforge_torch2trt.convert import mark_output, run_converter

        members = set(segment.names)
        policy = PrecisionPolicy.of(spec.precision)
        net = NetworkContext(network, ctx.tensorrt, policy, None, folds=self._folds_within(members))
        values: dict[str, Any] = dict(self.constant_values())
        specs: list[InputSpec] = []
        for tensor in segment.inputs:
            node = self.by_tensor[tensor]
            boundary = self.boundary_spec(tensor, node, net)
            values[node.name] = net.add_input(tensor, boundary.dtype, boundary.network_shape())
            specs.append(boundary)
        nodes = list(self.captured.graph.nodes)
        for node in nodes:
            if node.op != "call_function" or node.name in values:
                continue
            substitute = None
            if node.name in self.shape_nodes and node.name in self.chosen and not all(
                    i.name in values for i in node.all_input_nodes):
                substitute = self.size_substitute(node, [n for n in nodes if n.name in values])
            wanted = node.name in members or (
                node.name in self.shape_nodes and node.name in self.chosen
                and (substitute is not None or all(i.name in values for i in node.all_input_nodes)))
            if not wanted:
                continue
            net.node = node
            if substitute is not None:
                holder, axis = substitute
                values[node.name] = run_converter(net, node, self.chosen[node.name],
                                                  (values[holder.name], axis), {})
                continue
            args = map_arg(node.args, lambda n: values[n.name])
            kwargs = map_arg(node.kwargs, lambda n: values[n.name])
            values[node.name] = run_converter(net, node, self.chosen[node.name], args, kwargs)
        net.node = None
        for index, tensor in enumerate(segment.outputs):
            mark_output(net, tensor, values[self.by_tensor[tensor].name], index, exact=True)
        ctx.keepalive.extend([net.keepalive, self.captured.program])
        return specs

    def size_substitute(self, node: Any, available: list[Any]) -> tuple[Any, int] | None:
        """For ``sym_size(t, d)`` whose ``t`` this stage lacks: a tensor it has of that size."""
        expr = _size_of(node)
        if expr is None:
            return None
        for candidate in available:
            axis = has_size(candidate, expr)
            if axis is not None:
                return candidate, axis
        return None

    def _folds_within(self, members: set[str]) -> BatchNormFolds:
        """Batch norms fold into their convolution only where both run in this engine."""
        norms = {n.args[0].name: n.name for n in self.captured.graph.nodes if n.name in self.folds.folded}
        keep = {conv: affine for conv, affine in self.folds.affine.items()
                if conv in members and norms.get(conv) in members}
        return BatchNormFolds(keep, frozenset(norms[c] for c in keep))

    def boundary_spec(self, tensor: str, node: Any, net: NetworkContext) -> InputSpec:
        """Shape, dtype and profiles of a tensor entering an engine, from the model's inputs."""
        for spec in self.inputs:
            if spec.name == tensor:
                return spec
        value = node.meta.get("val")
        if not _is_tensor(value):
            raise ConversionError(f"program boundary {tensor} ({_op(node)} at {module_path(node)}) is "
                                  "not a tensor", route=ROUTE, hint="this is a bug in torch2trt's partitioning")
        dtype = net.native(TORCH_TO_TRT.get(str(value.dtype), "float32"))
        count = max(len(s.profiles) for s in self.inputs) if self.inputs else 1
        profiles = []
        for k in range(count):
            corners = [self._dims(value, tensor, k, corner) for corner in ("min", "opt", "max")]
            lo, opt, hi = (tuple(c) for c in corners)
            lo, hi = tuple(map(min, lo, hi)), tuple(map(max, lo, hi))
            profiles.append(ShapeProfile(lo, tuple(min(max(o, a), b) for o, a, b in zip(opt, lo, hi)), hi))
        if all(p.is_static for p in profiles):
            return InputSpec(name=tensor, dtype=dtype, shape=profiles[0].min)
        return InputSpec(name=tensor, dtype=dtype, profiles=tuple(profiles))

    def _dims(self, value: Any, tensor: str, profile: int, corner: str) -> list[int]:
        import sympy

        symbols = self._symbols(profile, corner)
        dims = []
        for dim in value.shape:
            if isinstance(dim, int):
                dims.append(dim)
                continue
            expr = dim.node.expr
            unknown = [s for s in expr.free_symbols if s not in symbols]
            if unknown:
                raise ConversionError(
                    f"program boundary {tensor}: its size {expr} depends on {unknown}, which no model "
                    "input's shape gives (a data-dependent size)", route=ROUTE,
                    hint="keep that part of the model in one stage (framework_ops) or in TensorRT")
            dims.append(int(expr.xreplace({s: sympy.Integer(v) for s, v in symbols.items()})))
        return dims

    def _symbols(self, profile: int, corner: str) -> dict[Any, int]:
        """Each symbolic size of the model's inputs -> its value at a profile's min/opt/max."""
        found: dict[Any, int] = {}
        placeholders = [n for n in self.captured.graph.nodes
                        if n.op == "placeholder" and n.name not in self.captured.constants]
        for node, spec in zip(placeholders, self.captured.specs):
            value = node.meta.get("val")
            chosen = spec.profiles[min(profile, len(spec.profiles) - 1)]
            for axis, dim in enumerate(getattr(value, "shape", ())):
                expr = getattr(getattr(dim, "node", None), "expr", None)
                if expr is not None and expr.is_Symbol:
                    found.setdefault(expr, int(getattr(chosen, corner)[axis]))
        return found

    # --- PyTorch segments -------------------------------------------------------------
    def framework_stage(self, name: str, segment: Segment) -> Any:
        from trtforge.program.torch_stage import stage_from_nodes

        members = set(segment.names)
        needed = self._shape_nodes_for(members)
        nodes = [n for n in self.captured.graph.nodes if n.name in members or n.name in needed]
        inputs = [self.by_tensor[t] for t in segment.inputs]
        outputs = [self.by_tensor[t] for t in segment.outputs]
        constants = self.constant_values()

        def constant(node: Any) -> Any:
            if node.name not in constants:
                raise ConversionError(f"program stage {name}: {node.name} ({_op(node)}) is neither an input "
                                      "of the stage nor a constant", route=ROUTE,
                                      hint="this is a bug in torch2trt's partitioning")
            return constants[node.name]

        substitutes = {}
        available = set(inputs) | {n for n in nodes if n.name in members}
        for node in nodes:
            if node.name in needed and not all(i in available or i.name in needed
                                               for i in node.all_input_nodes):
                found = self.size_substitute(node, [n for n in self.captured.graph.nodes if n in available])
                if found is not None:
                    substitutes[node] = found
        return stage_from_nodes(name, nodes, inputs, outputs, constant, route=ROUTE,
                                input_names=list(segment.inputs), output_names=list(segment.outputs),
                                substitutes=substitutes)

    def _shape_nodes_for(self, members: set[str]) -> set[str]:
        by_name = {n.name: n for n in self.captured.graph.nodes}
        needed: set[str] = set()
        stack = [i for m in members for i in by_name[m].all_input_nodes]
        while stack:
            node = stack.pop()
            if node.name in self.shape_nodes and node.name not in needed:
                needed.add(node.name)
                if _size_of(node) is None:  # a sym_size is recomputed from whatever has the size
                    stack.extend(node.all_input_nodes)
        return needed


def _size_of(node: Any) -> Any:
    """The symbolic expression a ``sym_size`` node reads, or None."""
    if _op(node) != "aten.sym_size.int":
        return None
    value = node.meta.get("val")
    return getattr(getattr(value, "node", None), "expr", None)


def has_size(node: Any, expr: Any) -> int | None:
    """The axis of ``node``'s value whose size is ``expr``, or None."""
    value = node.meta.get("val")
    for axis, dim in enumerate(getattr(value, "shape", ()) if _is_tensor(value) else ()):
        if getattr(getattr(dim, "node", None), "expr", None) == expr:
            return axis
    return None


def _size_deps(shape_node: Any, own: list[Any], shape_nodes: set[str], tensor_name: dict[str, str]
               ) -> list[str]:
    """Tensors a consumer needs for a size it reads: none where one of its own tensor inputs
    has that size (``x.view(x.size(0), -1)`` after export reads the *model input's* size)."""
    expr = _size_of(shape_node)
    if expr is not None and any(has_size(o, expr) is not None for o in own):
        return []
    found: list[str] = []
    for producer in shape_node.all_input_nodes:
        if producer.name in shape_nodes:
            found.extend(_size_deps(producer, own, shape_nodes, tensor_name))
        elif producer.meta.get(CONST):
            continue
        else:
            found.append(tensor_name.get(producer.name, producer.name))
    return found


def partial_graph(captured: Captured, registry: ConverterRegistry) -> TorchPartialGraph:
    """Every node of ``captured`` with its converter (or why none takes it), without raising."""
    graph = captured.graph
    mark_constants(graph, set(captured.constants))
    by_tensor: dict[str, Any] = {}
    inputs = iter(zip(captured.input_names, captured.specs))
    tensor_name: dict[str, str] = {}
    for node in graph.nodes:
        if node.op == "placeholder" and node.name not in captured.constants:
            name, _ = next(inputs)
            by_tensor[name] = node
            tensor_name[node.name] = name
    converted = [n for n in graph.nodes if n.op == "call_function" and not n.meta.get(CONST)]
    found = registry.plan(converted, key=lambda n: n.name, op=_op, place=module_path)
    chosen: dict[str, ConverterSupport] = found.chosen
    reasons = {name: "; ".join(why) or "no converter" for name, why in found.refusals.items()}
    shape_nodes: set[str] = set()
    deps: dict[str, tuple[str, ...]] = {}  # node -> tensor names it reads (through shape nodes)
    nodes: list[GraphNode] = []
    supported: dict[str, bool] = {}
    bad_shapes: set[str] = set()
    for node in converted:
        support = chosen.get(node.name)
        reads: list[str] = []
        blocked = [p.name for p in node.all_input_nodes if p.name in bad_shapes]
        own = [p for p in node.all_input_nodes if p.name not in shape_nodes]
        for producer in node.all_input_nodes:
            if producer.name in tensor_name:
                reads.append(tensor_name[producer.name])
            elif producer.name in shape_nodes:
                reads.extend(_size_deps(producer, own, shape_nodes, tensor_name))
            elif producer.op == "call_function" and not producer.meta.get(CONST):
                reads.append(producer.name)
        reads = list(dict.fromkeys(reads))
        value = node.meta.get("val")
        is_tuple = isinstance(value, (tuple, list))
        if not _is_tensor(value) and not is_tuple and node.target is not operator.getitem:
            shape_nodes.add(node.name)  # recomputed where used
            deps[node.name] = tuple(reads)
            if support is None or blocked:
                bad_shapes.add(node.name)
            continue
        ok = support is not None and not blocked
        if blocked and support is not None:
            reasons[node.name] = f"it reads size arithmetic TensorRT cannot compute ({', '.join(blocked)})"
        if node.target is operator.getitem and node.args and hasattr(node.args[0], "name"):
            ok = supported.get(node.args[0].name, ok)  # a tuple and its items stay together
        supported[node.name] = ok
        by_tensor.setdefault(node.name, node)
        outs = ((node.name, _numel(value) * value.dtype.itemsize, _shape_text(value)),) if _is_tensor(value) else ()
        nodes.append(GraphNode(
            name=node.name, op=_op(node), inputs=tuple(reads), supported=ok,
            reason=None if ok else reasons.get(node.name, f"its tuple producer {node.args[0]} runs in PyTorch"),
            macs=_macs(node), cheap=short_op(_op(node)) in CHEAP_OPS or node.target is operator.getitem,
            place=module_path(node), outputs=outs))
    output_node = next(n for n in graph.nodes if n.op == "output")
    results = output_node.args[0] if isinstance(output_node.args[0], (tuple, list)) else [output_node.args[0]]
    outputs = []
    for value in results:
        name = getattr(value, "name", None)
        if name is None or name not in by_tensor and name not in tensor_name:
            raise ConversionError(f"model output {value!r} is not a computed tensor; a program cannot "
                                  "return it", route=ROUTE, hint="use fallback='never'")
        outputs.append(tensor_name.get(name, name))
    return TorchPartialGraph(captured=captured, chosen=chosen, nodes=nodes, outputs=outputs,
                             inputs=list(captured.specs), by_tensor=by_tensor, shape_nodes=shape_nodes,
                             folds=batch_norm_folds(captured))
