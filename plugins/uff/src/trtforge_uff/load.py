"""``populate`` for the backend: read and validate the UFF file, then import it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from trtforge.errors import ConversionError, UsageError
from trtforge.plugin.network_builder import PrecisionPolicy
from trtforge.conversion.specs import Precision

from trtforge_uff import ROUTE


@dataclass(frozen=True)
class RouteOptions:
    """``options=`` of the uff route."""

    outputs: tuple[str, ...] | None = None  # node ids to mark instead of the file's MarkOutputs
    keep_uff: str | None = None  # TF sources: folder to keep the written .uff and .pbtxt in

    KNOWN = ("outputs", "keep_uff")

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> "RouteOptions":
        unknown = sorted(set(options) - set(cls.KNOWN))
        if unknown:
            raise UsageError(
                f"{ROUTE} does not know the option(s) {', '.join(unknown)}",
                hint=f"known options: {', '.join(cls.KNOWN)}",
            )
        outputs = options.get("outputs")
        if outputs is not None:
            if isinstance(outputs, str) or not all(isinstance(o, str) for o in outputs) or not outputs:
                raise UsageError(
                    f"option outputs must be a list of UFF node ids, got {outputs!r}",
                    hint="e.g. options={'outputs': ['concat_box_loc', 'concat_box_conf']}",
                )
            outputs = tuple(outputs)
        keep = options.get("keep_uff")
        if keep is not None and not isinstance(keep, str):
            raise UsageError(
                f"option keep_uff must be a folder, got {keep!r}",
                hint="e.g. --option keep_uff=out/ (writes <model>.uff and <model>.pbtxt there)",
            )
        return cls(outputs=outputs, keep_uff=keep)


def read_graph(path: Any) -> Any:
    """The first graph of a UFF file, validated (every problem listed in one error)."""
    from trtforge_uff.format import io, validate
    from trtforge_uff.format.graph import UffGraph

    meta = io.read(path)
    validate.require_valid(meta, str(path))
    return UffGraph.of(meta)


TF_KINDS = ("tf-frozen-graph", "tf-graphdef", "tf-savedmodel", "keras-model", "keras-file")


def tf_to_uff(source: Any, spec: Any, options: RouteOptions, ctx: Any) -> Any:
    """TF model -> frozen GraphDef (core's ``trtforge.models.tf_graphs``, shared with tf_trt) -> UFF."""
    from pathlib import Path

    from trtforge_uff.format import io, validate
    from trtforge_uff.format.graph import UffGraph
    from trtforge_uff.tf2uff.source import uff_from_tf

    with ctx.stage("tf2uff", f"{source.kind} -> frozen GraphDef -> UFF"):
        result, notes = uff_from_tf(source)
    for note in notes:
        ctx.note(note)
    validate.require_valid(result.meta, f"the UFF written for {source.name}")
    if options.keep_uff:
        folder = Path(options.keep_uff).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        stem = Path(source.name).stem or "model"
        written = [
            io.write(result.meta, folder / f"{stem}.uff"),
            io.write(result.meta, folder / f"{stem}.pbtxt"),
        ]
        ctx.note("kept " + ", ".join(str(p) for p in written))
        ctx.artifacts["uff_files"] = [str(p) for p in written]
    return UffGraph.of(result.meta)


def graph_of(source: Any, spec: Any, ctx: Any) -> Any:
    """The validated UFF graph of a UFF file, or of a TF model written as UFF."""
    options = RouteOptions.parse(spec.options)
    if source.kind in TF_KINDS:
        return tf_to_uff(source, spec, options, ctx)
    with ctx.stage("read", "UFF reader + validator"):
        return read_graph(source.path or source.model)


def compute_dtype(spec: Any, tensorrt: Any) -> str:
    """The float dtype inside the network: fp16 networks carry float16 tensors where TensorRT is
    strongly typed; on TensorRT 8.x (weak typing) the network stays float32 and core sets the
    builder's FP16 flag. bf16 and int8 are refused (no bf16 weights in numpy, no calibration)."""
    if spec.precision in (Precision.FP32, Precision.FP16):
        if tensorrt.facts.precision_via_builder_flags:
            return "float32"
        return PrecisionPolicy.of(spec.precision).compute
    raise ConversionError(
        f"the {ROUTE} route builds fp32 and fp16 networks (asked: {spec.precision.value})",
        route=ROUTE,
        hint="use precision='fp32' or 'fp16', or backend='onnx_trt' for bf16/int8",
    )


def populate(network: Any, source: Any, spec: Any, ctx: Any) -> None:
    from trtforge_uff.importer.convert import import_graph

    options = RouteOptions.parse(spec.options)
    compute = compute_dtype(spec, ctx.tensorrt)
    graph = graph_of(source, spec, ctx)
    with ctx.stage("import", f"{len(graph.nodes)} UFF nodes -> TensorRT layers"):
        result = import_graph(
            network,
            ctx.tensorrt,
            graph,
            input_specs=spec.inputs,
            compute=compute,
            origin=source.name,
            outputs=list(options.outputs) if options.outputs else None,
        )
    ctx.keepalive.extend(result.keepalive)
    for note in result.notes:
        ctx.note(note)
    ctx.note(
        f"UFF graph {graph.id!r}: {len(graph.nodes)} nodes -> {result.layers} layers; "
        f"inputs {', '.join(result.inputs)}; outputs {', '.join(result.outputs)}"
    )
