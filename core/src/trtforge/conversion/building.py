"""Filling, snapshotting and building one TensorRT network: the step every engine shares, a
whole model's or one TensorRT stage of a hybrid program (so programs need not import the API)."""
from __future__ import annotations

import datetime as _dt
import shutil
from dataclasses import replace
from typing import Any, Callable, Sequence

from trtforge import __version__
from trtforge.plugin.context import ConversionContext
from trtforge.conversion.engine import FORMAT_VERSION, Engine
from trtforge.errors import TrtforgeError, UsageError
from trtforge.guard import work_dir
from trtforge.progress import Stages
from trtforge.models.sources import ModelSource
from trtforge.conversion.specs import BuildSpec, InputSpec
from trtforge.tensorrt.trt import TensorRT


def build_engine(route_name: str, source: ModelSource, spec: BuildSpec, tensorrt: TensorRT,
                 populate: Callable[[Any, ConversionContext], None], *, what: str | None = None,
                 stages: Stages | None = None,
                 input_specs: Callable[[], Sequence[InputSpec]] | None = None) -> Engine:
    """Fill a network with ``populate(network, ctx)``, snapshot it and build it: one engine
    (a whole model, or one TensorRT stage of a hybrid program)."""
    stages = stages or Stages(prefix=f"{route_name}: ")
    workdir = work_dir(route_name)
    ctx = ConversionContext(tensorrt=tensorrt, route=route_name, workdir=workdir, stages=stages)
    try:
        network = tensorrt.create_network()
        with stages.stage("populate", what or f"{source.name} -> TensorRT network"):
            populate(network, ctx)
        if input_specs is not None:  # a program's engine: its inputs' specs come from the route
            spec = replace(spec, inputs=tuple(input_specs()))
        if network.num_outputs == 0:
            raise TrtforgeError(f"route {route_name} produced a network without outputs")
        inputs, outputs = tensorrt.network_io(network)
        _check_input_dtypes(spec.inputs, inputs)
        from trtforge.verify.snapshot import attach_snapshot, reconcile_weights, snapshot_for_engine

        snapshot = snapshot_for_engine(network, tensorrt, _named_inputs(spec.inputs, inputs), route_name)
        snapshot, remark = reconcile_weights(snapshot, ctx.handed_weights, route_name)
        if remark:
            ctx.notes.append(remark)
        with stages.stage("build", f"target {spec.target.name if spec.target else 'this GPU'}"):
            result = tensorrt.build(
                network, inputs=_named_inputs(spec.inputs, inputs), precision=spec.precision,
                target=spec.target, settings=spec.settings,
            )
        metadata = {
            "format_version": FORMAT_VERSION,
            "trtforge_version": __version__,
            "tensorrt": {"flavor": tensorrt.flavor, "version": tensorrt.version},
            "target": result.target,
            "precision": spec.precision.value,
            "route": route_name,
            "inputs": [i.to_dict() for i in inputs],
            "outputs": [o.to_dict() for o in outputs],
            "profiles": [s.to_dict() for s in _named_inputs(spec.inputs, inputs)],
            "source": source.describe(),
            "build": {
                "settings": result.settings,
                "seconds": round(result.seconds, 4),
                "stages": {k: round(v, 4) for k, v in stages.times.items()},
                "options": {k: repr(v) for k, v in spec.options.items()},
            },
            "network": {"layers": network.num_layers},
            "notes": list(ctx.notes),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        engine = Engine(plan=result.plan, metadata=metadata)
        engine.extras["artifacts"] = ctx.artifacts
        attach_snapshot(engine, snapshot)
        return engine
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _check_input_dtypes(specs: Sequence[InputSpec], network_inputs: Sequence[Any]) -> None:
    """Refuse an --input dtype the network does not have (it would be recorded, yet ignored)."""
    actual = {t.name: t.dtype for t in network_inputs}
    for spec in specs:
        if not spec.name or spec.name not in actual or spec.dtype == actual[spec.name]:
            continue
        given = spec.dtype_given if spec.dtype_given is not None else spec.dtype != "float32"
        if given:
            raise UsageError(
                f"input {spec.name!r} is {actual[spec.name]} in the model, not {spec.dtype}",
                hint=f"write --input {spec.name}:{actual[spec.name]}:SHAPE, or leave the dtype out")


def _named_inputs(specs: Sequence[InputSpec], network_inputs: Sequence[Any]) -> list[InputSpec]:
    """Give positional (unnamed) specs the names of the network inputs they stand for."""
    if specs and all(not s.name for s in specs):
        return [s.with_name(t.name) for s, t in zip(specs, network_inputs)]
    return list(specs)
