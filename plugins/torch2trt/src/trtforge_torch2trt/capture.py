"""Capture a ``torch.nn.Module`` as a graph of core ATen operators with ``torch.export``.

Why torch.export: it is PyTorch's supported whole-graph capture, it records symbolic sizes
(``x.view(x.size(0), -1)`` stays dynamic instead of baking the batch in, which is what broke
the 2019 ONNX path), it keeps each node's ``nn_module_stack`` (so errors can name
``layer3.2.conv1``), and ``run_decompositions()`` lowers everything to the ~180 ops of the core
ATen set, which is the finite list our converters have to cover.
"""
from __future__ import annotations

import inspect
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from trtforge.errors import ConversionError, UsageError
from trtforge.conversion.specs import InputSpec, ShapeProfile

from trtforge_torch2trt import ROUTE

log = logging.getLogger(__name__)


@dataclass
class Captured:
    """An exported, decomposed program and what the converter needs to know about it."""

    program: Any  # torch.export.ExportedProgram
    input_names: list[str]  # network input names, in forward-argument order
    specs: list[InputSpec]  # one per input, named
    constants: dict[str, Any] = field(default_factory=dict)  # placeholder name -> torch.Tensor
    module_name: str = ""

    @property
    def graph(self) -> Any:
        return self.program.graph


def module_label(module: Any) -> str:
    cls = type(module)
    return f"{cls.__module__}.{cls.__qualname__}"


def _forward_arg_names(module: Any, count: int) -> list[str]:
    try:
        params = [
            p.name for p in inspect.signature(module.forward).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    names = params[:count]
    return names + [f"input_{i}" for i in range(len(names), count)]


def _varargs_position(module: Any) -> int | None:
    """Index of ``*args`` in forward's signature (torch.export nests its dynamic shapes)."""
    try:
        params = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):
        return None
    for index, p in enumerate(params):
        if p.kind == p.VAR_POSITIONAL:
            return index
    return None


def _merged_profile(spec: InputSpec) -> ShapeProfile:
    """One range covering every profile of an input (torch.export takes one range per dim)."""
    rank = len(spec.profiles[0].min)
    lo = tuple(min(p.min[i] for p in spec.profiles) for i in range(rank))
    hi = tuple(max(p.max[i] for p in spec.profiles) for i in range(rank))
    opt = spec.profiles[0].opt
    return ShapeProfile(lo, tuple(min(max(o, l), h) for o, l, h in zip(opt, lo, hi)), hi)


def trace_shape(profile: ShapeProfile) -> tuple[int, ...]:
    """The example shape to trace with: opt, but never 0 or 1 in a dynamic dim.

    torch.export specialises a dimension whose example value is 0 or 1, so a dynamic batch
    traced at 1 would be baked in; 2 (or the closest value the range allows) keeps it symbolic.
    """
    dims = []
    for lo, opt, hi in zip(profile.min, profile.opt, profile.max):
        if lo == hi:
            dims.append(lo)
        else:
            dims.append(min(max(opt, 2, lo), hi))
    return tuple(dims)


def resolve_inputs(module: Any, spec: Any) -> tuple[list[str], list[InputSpec], list[Any]]:
    """Input names, one named InputSpec per input, and example tensors to trace with."""
    import torch

    examples = list(spec.example_inputs or ())
    specs = list(spec.inputs)
    if not specs:
        raise UsageError(
            f"{ROUTE} needs the input shapes of {module_label(module)}",
            hint="pass inputs=[torch.randn(1, 3, 224, 224)] or InputSpec(...) "
            "(CLI: --input x:1x3x224x224)",
        )
    names = _forward_arg_names(module, len(specs))
    named = [s if s.name else s.with_name(n) for s, n in zip(specs, names)]
    names = [s.name for s in named]  # type: ignore[misc]
    tensors = []
    for i, s in enumerate(named):
        if i < len(examples):
            example = examples[i]
            tensors.append(example if isinstance(example, torch.Tensor) else torch.as_tensor(example))
            continue
        dtype = getattr(torch, s.dtype)
        shape = trace_shape(_merged_profile(s))
        if dtype.is_floating_point:
            tensors.append(torch.randn(shape, generator=torch.Generator().manual_seed(i)).to(dtype))
        else:
            tensors.append(torch.ones(shape, dtype=dtype))
    return names, named, tensors


def _dynamic_shapes(names: Sequence[str], specs: Sequence[InputSpec]) -> tuple[Any, bool]:
    from torch.export import Dim

    shapes: list[dict[int, Any]] = []
    any_dynamic = False
    for name, s in zip(names, specs):
        profile = _merged_profile(s)
        dims: dict[int, Any] = {}
        for axis, (lo, hi) in enumerate(zip(profile.min, profile.max)):
            if lo != hi:
                safe = re.sub(r"\W", "_", f"{name}_dim{axis}")
                dims[axis] = Dim(safe, min=lo, max=hi)
                any_dynamic = True
        shapes.append(dims)
    return tuple(shapes), any_dynamic


def _explain(exc: BaseException) -> str:
    """The first line of torch's message plus the innermost user-code location it names."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    locations = re.findall(r'File "([^"]+)", line (\d+), in (\w+)', text)
    user = [loc for loc in locations if "/torch/" not in loc[0]]
    where = f" (at {user[-1][0]}:{user[-1][1]} in {user[-1][2]})" if user else ""
    return f"{type(exc).__name__}: {first[:400]}{where}"


def capture(module: Any, spec: Any) -> Captured:
    """Export ``module`` for the shapes in ``spec`` and decompose it to core ATen."""
    from trtforge.models.compat import torch_after_tensorflow

    torch_after_tensorflow()  # torch.export imports triton, which crashes after TensorFlow
    import torch

    label = module_label(module)
    names, specs, examples = resolve_inputs(module, spec)
    dynamic_shapes, any_dynamic = _dynamic_shapes(names, specs)
    varargs = _varargs_position(module)
    if any_dynamic and varargs is not None and varargs < len(dynamic_shapes):
        dynamic_shapes = (*dynamic_shapes[:varargs], tuple(dynamic_shapes[varargs:]))
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            program = torch.export.export(
                module, tuple(examples), dynamic_shapes=dynamic_shapes if any_dynamic else None,
                strict=False,
            )
            program = program.run_decompositions()
    except Exception as exc:
        reason = _explain(exc)
        shapes = ", ".join(f"{n}: {s.to_dict()['profiles']}" for n, s in zip(names, specs))
        raise ConversionError(
            f"torch.export could not capture {label} for inputs {shapes}: {reason}",
            route=ROUTE,
            hint="the module must be traceable by torch.export: no data-dependent Python "
            "control flow on tensor values, and dynamic dims only where the model allows them "
            "(see the location above); or use backend='onnx_trt'",
        ) from exc
    finally:
        module.train(was_training)
    return Captured(program, names, specs, _constants(program), label)


def _constants(program: Any) -> dict[str, Any]:
    """Placeholder name -> tensor for every parameter, buffer and lifted constant."""
    from torch.export.graph_signature import InputKind

    values: dict[str, Any] = {}
    for item in program.graph_signature.input_specs:
        if item.kind in (InputKind.PARAMETER, InputKind.BUFFER):
            if item.target in program.state_dict:
                values[item.arg.name] = program.state_dict[item.target]
            else:
                values[item.arg.name] = program.constants[item.target]
        elif item.kind == InputKind.CONSTANT_TENSOR:
            values[item.arg.name] = program.constants[item.target]
    return values


def module_path(node: Any) -> str:
    """Where ``node`` comes from in the module tree (``layer1.0.conv1``), or '<top>'."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return "<top>"
    path = list(stack.values())[-1]
    path = path[0] if isinstance(path, tuple) else str(path)
    return _clean_path(path) or "<top>"


def _clean_path(path: str) -> str:
    # torch.export writes nested attribute access as L['self'].layer1[0] in some versions
    path = re.sub(r"L\['self'\]\.?", "", path)
    path = re.sub(r"\[(\d+)\]", r".\1", path)
    path = re.sub(r"\['([^']+)'\]", r".\1", path)
    return path.strip(".")
