"""A program stage that TensorFlow runs: a slice of a frozen GraphDef.

The slice is its own GraphDef: the boundary tensors become Placeholders, the constants it
reads become Const nodes holding their values, and its outputs are named tensors. It is saved
as a serialized GraphDef (``.pb``, readable by any TensorFlow) and runs as a pruned
``wrap_function``, so loading it needs neither the original model nor its code. The
``tf_trt`` route builds its TensorFlow stages with :func:`stage_from_graph`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from trtforge.arrays import to_numpy
from trtforge.errors import ConversionError, EngineFileError, ModelSourceError
from trtforge.program.stages import StageRunError, stage_entry, unique_name
from trtforge.models.tf_graphs import (canonical_tensor, pruned_function, read_graphdef, run_on_cpu,
                                       tensor_dtype, tensor_ref)

log = logging.getLogger(__name__)

KIND = "tensorflow.graphdef"
_UNSAFE = r"[^A-Za-z0-9_./-]"  # what TensorFlow node names may not hold


@dataclass
class TensorFlowStage:
    """``graph_def`` with Placeholders ``feeds[i]`` for ``inputs[i]`` and tensors
    ``fetches[i]`` for ``outputs[i]`` (program tensor names -> graph tensor names)."""

    name: str
    graph_def: Any
    inputs: list[str]
    outputs: list[str]
    feeds: list[str]
    fetches: list[str]
    ops: list[str] = field(default_factory=list)
    kind: str = KIND
    _function: Any = field(default=None, repr=False)
    _dtypes: list[Any] = field(default_factory=list, repr=False)

    @property
    def file_name(self) -> str:
        return f"{self.name}.pb"

    def function(self) -> Any:
        if self._function is None:
            function = pruned_function(self.graph_def, self.feeds, self.fetches)
            self._dtypes = [t.dtype.as_numpy_dtype for t in function.inputs]
            self._function = function
        return self._function

    def run(self, feeds: Mapping[str, Any], *, device: str) -> dict[str, Any]:
        import numpy as np

        function = self.function()
        # An engine hands int32 where the graph has int64 (TensorRT < 10), or FP16 values;
        # torch CUDA tensors from another stage come back to the host.
        args = [to_numpy(feeds[n]).astype(dtype, copy=False) for n, dtype in zip(self.inputs, self._dtypes)]
        try:
            results = run_on_cpu(function, args)
        except Exception as exc:
            raise StageRunError.of(self, "TensorFlow", exc, args) from exc
        return {n: np.array(r) for n, r in zip(self.outputs, results)}  # writable copies

    def files(self, folder: Path) -> dict[Path, bytes]:
        return {folder / self.file_name: self.graph_def.SerializeToString()}

    def describe(self) -> dict[str, Any]:
        import tensorflow as tf

        return stage_entry(self, feeds=list(self.feeds), fetches=list(self.fetches),
                           tensorflow=str(tf.__version__))


def load(folder: Path, entry: Mapping[str, Any]) -> TensorFlowStage:
    try:
        import tensorflow as tf
    except ImportError:
        raise EngineFileError(f"program stage {entry.get('name')!r} runs in TensorFlow, which is not "
                              "installed here", hint="pip install tensorflow (or tensorflow-cpu)") from None
    path = folder / str(entry["file"])
    try:
        graph_def = read_graphdef(path, tf)
    except ModelSourceError as exc:  # names the file
        raise EngineFileError(f"program stage {entry.get('name')!r}: {exc.message}",
                              hint="the program folder is damaged") from None
    return TensorFlowStage(str(entry["name"]), graph_def, list(entry["inputs"]), list(entry["outputs"]),
                           list(entry["feeds"]), list(entry["fetches"]), list(entry.get("ops", [])))


def stage_from_graph(name: str, graph_def: Any, members: Sequence[str], inputs: Mapping[str, str],
                     outputs: Mapping[str, str], constants: Mapping[str, Any], *, route: str,
                     input_dtypes: Mapping[str, str] | None = None) -> TensorFlowStage:
    """A stage running the nodes ``members`` of ``graph_def``.

    ``inputs``: program tensor name -> graph tensor (``node:index``) the stage is fed;
    ``outputs``: program tensor name -> graph tensor it returns; ``constants``: graph tensor ->
    value for every constant a member reads (they become Const nodes); ``input_dtypes``:
    program tensor name -> dtype name of a fed tensor (default: read from its producer).
    """
    import numpy as np
    import tensorflow as tf
    from tensorflow.python.framework import tensor_util

    by_name = {n.name: n for n in graph_def.node}
    member_set = set(members)
    taken = set(member_set)
    sliced = tf.compat.v1.GraphDef()
    sliced.versions.CopyFrom(graph_def.versions)
    sliced.library.CopyFrom(graph_def.library)
    remap: dict[str, str] = {}
    feeds: list[str] = []
    for program_name, tensor in inputs.items():
        placeholder = sliced.node.add()
        placeholder.name = unique_name(f"feed/{program_name}", taken, _UNSAFE, "_./-")
        placeholder.op = "Placeholder"
        given = (input_dtypes or {}).get(program_name)
        placeholder.attr["dtype"].type = tf.as_dtype(given).as_datatype_enum if given \
            else _tensor_dtype(by_name, tensor, tf)
        remap[canonical_tensor(tensor)] = f"{placeholder.name}:0"
        feeds.append(f"{placeholder.name}:0")
    for tensor, value in constants.items():
        if canonical_tensor(tensor) in remap:
            continue
        const = sliced.node.add()
        const.name = unique_name(f"const/{tensor.replace(':', '_')}", taken, _UNSAFE, "_./-")
        const.op = "Const"
        array = np.asarray(value)
        const.attr["dtype"].type = tf.as_dtype(array.dtype).as_datatype_enum
        const.attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto(array))
        remap[canonical_tensor(tensor)] = f"{const.name}:0"
    for node_name in members:
        node = sliced.node.add()
        node.CopyFrom(by_name[node_name])
        node.device = ""
        kept = []
        for ref in node.input:
            if ref.startswith("^"):
                if ref[1:] in member_set:
                    kept.append(ref)
                continue
            canonical = canonical_tensor(ref)
            if canonical in remap:
                kept.append(remap[canonical])
            elif canonical.split(":")[0] in member_set:
                kept.append(ref)
            else:
                raise ConversionError(f"program stage {name}: node {node_name} reads {ref}, which is "
                                      "neither in the stage, fed to it, nor a constant", route=route,
                                      hint="this is a bug in the route's partitioning")
        del node.input[:]
        node.input.extend(kept)
    fetches = [remap.get(canonical_tensor(t), canonical_tensor(t)) for t in outputs.values()]
    ops = [by_name[m].op for m in members]
    log.info("program stage %s: %d TensorFlow node(s)", name, len(members))
    return TensorFlowStage(name, sliced, list(inputs), list(outputs), feeds, fetches, ops)


def _tensor_dtype(by_name: Mapping[str, Any], tensor: str, tf: Any) -> int:
    """The DataType enum of a graph tensor, from its producer's attributes."""
    node, index = tensor_ref(tensor)
    return tf.as_dtype(tensor_dtype(by_name[node], index)).as_datatype_enum
