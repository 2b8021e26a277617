"""TF model (anything core's ``trtforge.models.tf_graphs`` can freeze) -> UFF MetaGraph or files."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from trtforge_uff.tf2uff.convert import TfToUffResult, graphdef_to_uff


def uff_from_tf(
    source: Any, *, input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None
) -> tuple[TfToUffResult, list[str]]:
    """The UFF of ``source`` and the notes of freezing it (TF loading is core's, shared with tf_trt)."""
    from trtforge.models.tf_graphs import frozen_graph

    frozen = frozen_graph(
        source,
        input_names=list(input_names) if input_names else None,
        output_names=list(output_names) if output_names else None,
    )
    shapes = {
        g.tensor.split(":")[0]: [-1 if d is None else int(d) for d in g.shape]
        for g in frozen.input_specs
        if g.shape is not None
    }
    result = graphdef_to_uff(frozen.graph_def, list(frozen.inputs), list(frozen.outputs), input_shapes=shapes)
    return result, list(frozen.notes) + result.notes


def write_uff_from_tf(source: Any, output: str | Path, **names: Any) -> list[Path]:
    """Write ``output`` (.uff) and the ``.pbtxt`` beside it; returns both paths."""
    from trtforge_uff.format import io, validate

    result, _ = uff_from_tf(source, **names)
    output = Path(output)
    validate.require_valid(result.meta, f"the UFF written for {source}")
    return [io.write(result.meta, output), io.write(result.meta, output.with_suffix(".pbtxt"))]
